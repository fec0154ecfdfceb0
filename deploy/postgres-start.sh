#!/bin/sh
# PostgreSQL for deploy/docker-compose.yml (Debian's, in jupyter-ide/stack): on first start, a
# cluster with password sign-in from the `data` network and the two databases the hub and
# jupyter-ide use; then the server in the foreground.
set -eu
bin=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${DB_PASSWORD:?set DB_PASSWORD}"
    pwfile=$(mktemp)
    printf '%s\n' "$DB_PASSWORD" > "$pwfile"
    "$bin/initdb" -D "$PGDATA" -U postgres --pwfile="$pwfile" \
        --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
    "$bin/pg_ctl" -D "$PGDATA" -o "-c listen_addresses='' -k /tmp" -w start >/dev/null
    for name in jupyterhub jupyter_ide; do
        psql -h /tmp -U postgres -v ON_ERROR_STOP=1 -q \
            -v name="$name" -v password="$DB_PASSWORD" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
SQL
    done
    "$bin/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec "$bin/postgres" -D "$PGDATA" -c listen_addresses='*' -k /tmp
