# The user image's Jupyter layer: jupyterhub (the hub's version), JupyterLab and jupyter-ide's
# own requirements, on our offline-built core image. Built by
# `python -m jupyter_ide.kernels.images.userimage` and reused while those requirements and the
# core image are unchanged, so a changed checkout only re-installs its wheel (./Dockerfile).
# The host's pip config is fetched for this step only (see base/host-config.sh).
ARG CORE_IMAGE
FROM ${CORE_IMAGE}
USER root
COPY requirements.txt /tmp/ide-requirements.txt
ARG IDE_HOST_CONFIG
RUN set -eux; \
    . /usr/local/lib/ide-build/host-config.sh; \
    pip install --no-cache-dir --disable-pip-version-check -r /tmp/ide-requirements.txt; \
    rm /tmp/ide-requirements.txt; \
    jupyterhub-singleuser --version
USER 1000:1000
