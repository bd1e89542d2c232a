#!/usr/bin/env bash
# The read-only role Grafana's "Usage stats" datasource logs in as (PostgreSQL 17). Run once by the
# postgres image on a fresh volume, after init.sql (the image runs /docker-entrypoint-initdb.d in
# name order). Grafana lets anonymous visitors query datasources, so this role can only SELECT
# the usage tables: no writes, no other schema, every transaction read-only.
# On a volume made before this file existed: `uv run nox -s clean`, or run it by hand
# (docker compose exec postgres bash /docker-entrypoint-initdb.d/reader.sh).
set -euo pipefail

psql --no-psqlrc -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v reader_password="${USAGE_READER_PASSWORD:?set USAGE_READER_PASSWORD (nox -s stack generates it)}" <<'SQL'
CREATE ROLE usage_reader LOGIN PASSWORD :'reader_password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT CONNECTION LIMIT 10;
ALTER ROLE usage_reader SET default_transaction_read_only = on;
ALTER ROLE usage_reader SET statement_timeout = '30s';
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO usage_reader;
GRANT SELECT ON usage_events, scraper_position TO usage_reader;
SQL
