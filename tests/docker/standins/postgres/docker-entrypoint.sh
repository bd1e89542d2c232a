#!/usr/bin/env bash
# The stand-in's entrypoint: the part of the official postgres image's documented contract the lab
# uses. On an empty PGDATA: initdb with POSTGRES_USER and POSTGRES_PASSWORD (scram-sha-256 for
# TCP clients), create POSTGRES_DB, then, on a temporary server that listens on the socket only,
# run /docker-entrypoint-initdb.d/*.sql with psql and *.sh (executed if executable, else sourced),
# in name order. Then, as for a database that already exists, exec the server. Started as root it
# drops to postgres first; started as postgres (compose `user: postgres`) it just runs.
set -euo pipefail

if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi
if [ "$1" != 'postgres' ]; then
  exec "$@"
fi

if [ "$(id -u)" = '0' ]; then
  install -d -o postgres -g postgres -m 0700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

export POSTGRES_USER="${POSTGRES_USER:-postgres}"
export POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"

# run_sql DATABASE [psql arguments]: as POSTGRES_USER over the socket.
run_sql() {
  local database="$1"
  shift
  PGHOST='' PGHOSTADDR='' psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc \
    --username "$POSTGRES_USER" --dbname "$database" "$@"
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "docker-entrypoint.sh: POSTGRES_PASSWORD is not set; the database is not initialised" >&2
    exit 1
  fi
  chmod 0700 "$PGDATA"
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-local=trust --auth-host=scram-sha-256
  printf '\nhost all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"

  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start
  if [ "$POSTGRES_DB" != 'postgres' ]; then
    run_sql postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";'
  fi
  for file in /docker-entrypoint-initdb.d/*; do
    case "$file" in
      *.sql) echo "docker-entrypoint.sh: running $file"; run_sql "$POSTGRES_DB" -f "$file" ;;
      *.sh)
        if [ -x "$file" ]; then
          echo "docker-entrypoint.sh: running $file"; "$file"
        else
          echo "docker-entrypoint.sh: sourcing $file"
          # shellcheck disable=SC1090
          . "$file"
        fi
        ;;
      *) echo "docker-entrypoint.sh: ignoring $file" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  echo "docker-entrypoint.sh: init process complete"
fi

exec "$@"
