#!/usr/bin/env bash
# Make sure the services the test suite talks to run on loopback: PostgreSQL, Redis, Chromium,
# the Docker engine (local unix socket only), haproxy (the load balancer, run by the tests) and
# docker-compose (the compose deployment's test).
# Installs them from Debian's packages when missing (CI runs on a clean machine).
set -euo pipefail

log() { printf '[services] %s\n' "$*"; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    log "PostgreSQL answers on 127.0.0.1:5432"
    return
  fi
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    apt_install postgresql postgresql-client
    local conf
    conf=$(ls -d /etc/postgresql/*/main | head -1)
    # A throwaway test cluster on loopback only: trust local connections, as the project's machines do.
    sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$conf/pg_hba.conf"
    sed -i -E 's/^(local\s+all\s+\S+\s+)\S+/\1trust/' "$conf/pg_hba.conf"
  fi
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do
    pg_isready -q -h 127.0.0.1 -p 5432 && break
    sleep 1
  done
  pg_isready -h 127.0.0.1 -p 5432
  psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='test'" | grep -q 1 ||
    psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test" >/dev/null
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
    log "Redis answers on 127.0.0.1:6379"
    return
  fi
  command -v redis-server >/dev/null || apt_install redis-server redis-tools
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 20); do
    redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && return
    sleep 0.5
  done
  log "Redis did not start"; exit 1
}

ensure_chromium() {
  if command -v chromium >/dev/null; then
    log "Chromium: $(chromium --version 2>/dev/null | head -1)"
    return
  fi
  apt_install chromium fonts-dejavu-core
}

ensure_docker() {
  # debootstrap builds the sandbox images' base where no image registry can be reached.
  command -v debootstrap >/dev/null || apt_install debootstrap
  if docker info >/dev/null 2>&1; then
    log "Docker engine: $(docker version --format '{{.Server.Version}}' 2>/dev/null)"
    return
  fi
  command -v dockerd >/dev/null || apt_install docker.io
  log "starting dockerd (unix socket only)"
  mkdir -p /var/log
  # No TCP listener: the engine is reached through its unix socket only. In a session of its
  # own (setsid), so ending the job or terminal that started it does not stop the engine.
  setsid nohup dockerd --host=unix:///var/run/docker.sock \
    >>/var/log/jupyter-ide-dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && { log "Docker engine answers"; return; }
    sleep 1
  done
  log "dockerd did not start; see /var/log/jupyter-ide-dockerd.log"; exit 1
}

ensure_compose() {
  # docker-compose (Debian's 1.29) starts deploy/docker-compose.yml (tests/test_compose_deployment.py).
  if command -v docker-compose >/dev/null; then
    log "docker-compose: $(docker-compose version --short 2>/dev/null)"
    return
  fi
  apt_install docker-compose
}

ensure_haproxy() {
  # The load balancer in front of two service replicas (tests/test_service_replicas.py, bench/ai_scale.py).
  if command -v haproxy >/dev/null; then
    log "haproxy: $(haproxy -v 2>/dev/null | head -1)"
    return
  fi
  apt_install haproxy
}

for what in "${@:-postgres redis chromium docker haproxy compose}"; do
  for one in $what; do "ensure_$one"; done
done
