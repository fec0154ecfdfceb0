"""A hub user's server as a client of the jupyter-ide service: it holds nothing shared.

Under JupyterHub, with ``JUPYTER_IDE_SERVICE_URL`` set (deploy/jupyterhub_config.py sets it
when the service runs), a user's server keeps only its own ``JUPYTERHUB_API_TOKEN`` and asks
the service for everything else, with that token:

- files: the contents manager is a client of the service's contents API (contents.py), so the
  editor, JupyterLab and the kernels the service starts all work on the one workspace the
  service keeps (S3 store, index, and the folder it mounts into the user's kernels);
- kernels: Jupyter's own ``GatewayClient`` points at the service (connection.py);
- the /ide APIs (AI, judge, courses, tokens, usage, history, admin): forwarded (forward.py);
- terminals: the service's, in a sandbox of the user's (terminals.py); no student command
  runs in the user's server.
"""
