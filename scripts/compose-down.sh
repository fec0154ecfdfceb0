#!/usr/bin/env bash
# Stop deploy/docker-compose.yml (`make compose-down`; data volumes kept, pass --volumes to drop
# them). Stopping needs none of the secrets the file insists on for `up`: each one not set in
# deploy/.env or the environment gets a placeholder here.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f deploy/.env ]; then set -a; . deploy/.env; set +a; fi
for name in $(grep -o '\${[A-Z_]*:?' deploy/docker-compose.yml | tr -d '${:?' | sort -u); do
    export "$name=${!name:-unused-by-down}"
done
exec docker-compose -p jupyter-ide -f deploy/docker-compose.yml down "$@"
