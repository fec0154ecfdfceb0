# The hub: JupyterHub with oauthenticator and DockerSpawner, configured by jupyterhub_config.py.
FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm \
    && npm install -g configurable-http-proxy \
    && pip install --no-cache-dir "jupyterhub>=5" "oauthenticator>=16.3" dockerspawner psycopg2-binary \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY jupyterhub_config.py /srv/jupyterhub/jupyterhub_config.py
WORKDIR /srv/jupyterhub
CMD ["jupyterhub", "-f", "/srv/jupyterhub/jupyterhub_config.py"]
