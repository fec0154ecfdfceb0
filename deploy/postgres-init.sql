-- jupyter-ide's own database beside the hub's (its schema comes from `jupyter ide upgrade-db`).
CREATE USER jupyter_ide WITH PASSWORD 'jupyter_ide';
CREATE DATABASE jupyter_ide OWNER jupyter_ide;
