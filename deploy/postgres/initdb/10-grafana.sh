#!/bin/sh
# Runs once, when postgres_data is empty (the image's /docker-entrypoint-initdb.d): creates
# Grafana's backend database and its owner. The password comes from GRAFANA_DB_PASSWORD.
set -eu

: "${GRAFANA_DB_PASSWORD:?GRAFANA_DB_PASSWORD is required}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v grafana_password="$GRAFANA_DB_PASSWORD" <<'SQL'
CREATE ROLE grafana WITH LOGIN PASSWORD :'grafana_password';
CREATE DATABASE grafana OWNER grafana;
REVOKE ALL ON DATABASE grafana FROM PUBLIC;
SQL
