#!/usr/bin/env bash
# Runs the GrafanaPanel portal against the local Docker engine.
#   ConnectionStrings__Panel set   -> uses that PostgreSQL server.
#   ConnectionStrings__Panel unset -> a private PostgreSQL cluster in .local/postgres (created on first run).
# Port: PANEL_PORT (default 8585). Any other setting: environment variables as in README.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/common.sh
source "$root/scripts/lib/common.sh"

port=${PANEL_PORT:-8585}
command -v dotnet >/dev/null || die "the .NET 10 SDK is needed (dotnet not found on PATH)"

started_pg=""
if [[ -z ${ConnectionStrings__Panel:-} ]]; then
  ensure_postgres_binaries
  pg_dir=$root/.local/postgres
  pg_port=${PANEL_LOCAL_PG_PORT:-55432}
  mkdir -p "$root/.local"
  pw_file=$root/.local/postgres.password
  [[ -s $pw_file ]] || { random_secret >"$pw_file"; chmod 600 "$pw_file"; }
  pw=$(cat "$pw_file")
  start_pg_cluster "$pg_dir" "$pg_port" "$pw"
  started_pg=$pg_dir
  if ! PGPASSWORD=$pw "$(pg_bin_dir)/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='panel'" | grep -q 1; then
    PGPASSWORD=$pw "$(pg_bin_dir)/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "CREATE DATABASE panel" >/dev/null
  fi
  export ConnectionStrings__Panel="Host=127.0.0.1;Port=$pg_port;Database=panel;Username=postgres;Password=$pw"
  say "database: private PostgreSQL in .local/postgres on 127.0.0.1:$pg_port (data kept between runs)"
fi

if is_root && is_debian; then
  ensure_dockerd || true
fi
docker_answers || say "no Docker engine answers at ${Docker__Endpoint:-unix:///var/run/docker.sock}; the portal starts and shows that in its app bar"

cleanup() { [[ -n $started_pg ]] && stop_pg_cluster "$started_pg"; }
trap cleanup EXIT

say "building the portal"
dotnet build "$root/src/GrafanaPanel.Web" -c Release -v quiet -nologo >/dev/null || dotnet build "$root/src/GrafanaPanel.Web" -c Release
say "GrafanaPanel: open http://localhost:$port"
if [[ -n ${Panel__Admin__Email:-} ]]; then
  say "sign in as $Panel__Admin__Email with Panel__Admin__Password"
else
  say "first run: the log below prints a one-time setup link to create the first Admin (or set Panel__Admin__Email / Panel__Admin__Password)"
fi
export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Production}
export Panel__PublicUrl=${Panel__PublicUrl:-http://localhost:$port}
# Helper containers (backups, restores, resets) always use this image, never one a backup names: the portal's own
# image as compose builds it (docker compose build panel), which has sh, find, df, du, stat and awk.
export Backups__HelperImage=${Backups__HelperImage:-grafana-panel:${PANEL_IMAGE_TAG:-local}}
dotnet run --project "$root/src/GrafanaPanel.Web" -c Release --no-build --no-launch-profile --urls "http://0.0.0.0:$port"
