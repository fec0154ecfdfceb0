# Each user's server: jupyter-ide (built from this repository) and JupyterLab, with JupyterHub's
# single-user app.
# Where no registry can be reached, build jupyter-ide/singleuser:<version> instead, on the
# offline-built core image: `python -m jupyter_ide.kernels.images.userimage` (its Dockerfile is
# jupyter_ide/kernels/images/singleuser/Dockerfile), and set JUPYTER_IDE_SINGLEUSER_IMAGE to it.
FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm git \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY . /src/jupyter-ide
RUN pip install --no-cache-dir "/src/jupyter-ide" "jupyterhub>=5" "jupyterlab>=4.2" && useradd -m -u 1000 student
USER student
WORKDIR /home/student
CMD ["jupyterhub-singleuser"]
