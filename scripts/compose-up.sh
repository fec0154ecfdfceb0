#!/usr/bin/env bash
# Start deploy/docker-compose.yml: build (or reuse) jupyter-ide/stack offline, write random
# secrets to deploy/.env on the first run (mode 600; keep it), then `docker-compose up -d`.
# The sign-in provider is the operator's: set OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET,
# OAUTH_CALLBACK_URL and OIDC_ISSUER (or JUPYTER_IDE_OAUTH_PROVIDER=github|google) in
# deploy/.env before the first `make compose-up`. `make compose-down` stops it (data kept).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
env_file=deploy/.env

"$python" -m jupyter_ide.kernels.images.stackimage
if [ ! -f "$env_file" ]; then
    umask 077
    {
        for name in JUPYTERHUB_CRYPT_KEY JUPYTER_IDE_CRYPT_KEY JUPYTER_IDE_SERVICE_TOKEN; do
            echo "$name=$(openssl rand -hex 32)"
        done
        for name in DB_PASSWORD REDIS_PASSWORD S3_SECRET_KEY; do
            echo "$name=$(openssl rand -hex 16)"
        done
        echo "IDE_STATE_DIR=/var/lib/jupyter-ide"
    } > "$env_file"
    echo "[compose] wrote $env_file with new secrets; add your OAuth provider's settings there"
fi
missing=$(for name in OAUTH_CLIENT_ID OAUTH_CLIENT_SECRET; do
    grep -q "^$name=." "$env_file" || [ -n "${!name:-}" ] || echo "$name"
done)
if [ -n "$missing" ]; then
    echo "[compose] set $(echo $missing) in $env_file (your OAuth provider's app)" >&2
    exit 1
fi
set -a; . "$env_file"; set +a
mkdir -p "$IDE_STATE_DIR"
exec docker-compose -p jupyter-ide -f deploy/docker-compose.yml up -d
