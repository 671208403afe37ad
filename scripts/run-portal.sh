#!/usr/bin/env bash
# Runs the GrafanaPanel portal against the local Docker engine: publishes it into .local/publish and runs that.
#   ConnectionStrings__Panel set   -> uses that PostgreSQL server.
#   ConnectionStrings__Panel unset -> a private PostgreSQL cluster in .local/postgres (created on first run).
# Port: PANEL_PORT (default 8585). Any other setting: environment variables as in docs/configuration.md.
# Host commands: scripts/run-portal.sh setup-link (first-Admin link) | scripts/run-portal.sh unlock-admin EMAIL.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/common.sh
source "$root/scripts/lib/common.sh"

port=${PANEL_PORT:-8585}
command -v dotnet >/dev/null || die "the .NET 10 SDK is needed (dotnet not found on PATH)"

# Host commands on the portal's database: `setup-link` prints a one-time link (30 minutes) for the first Admin,
# `unlock-admin EMAIL` lifts an Admin's lockout. Same database as the run below (.local/postgres unless
# ConnectionStrings__Panel is set); the cluster is started for the command when the portal is not running.
if [[ ${1:-} == setup-link || ${1:-} == unlock-admin ]]; then
  cmd_started_pg=""
  if [[ -z ${ConnectionStrings__Panel:-} ]]; then
    pg_dir=$root/.local/postgres
    pw_file=$root/.local/postgres.password
    [[ -f $pg_dir/data/PG_VERSION && -s $pw_file ]] || die "no local database yet in .local/postgres: start the portal once with scripts/run-portal.sh"
    ensure_postgres_binaries
    pw=$(cat "$pw_file")
    if ! as_pg_owner "$(pg_bin_dir)/pg_ctl" -D "$pg_dir/data" status >/dev/null 2>&1; then
      start_pg_cluster "$pg_dir" "${PANEL_LOCAL_PG_PORT:-55432}" "$pw"
      cmd_started_pg=$pg_dir
    fi
    export ConnectionStrings__Panel="Host=127.0.0.1;Port=${PANEL_LOCAL_PG_PORT:-55432};Database=panel;Username=postgres;Password=$pw"
  fi
  export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Production}
  export Panel__PublicUrl=${Panel__PublicUrl:-http://localhost:$port}
  rc=0
  if [[ -f $root/.local/publish/GrafanaPanel.Web.dll ]]; then
    (cd "$root/.local/publish" && dotnet GrafanaPanel.Web.dll "$@") || rc=$?
  else
    dotnet run --project "$root/src/GrafanaPanel.Web" -c Release --no-launch-profile -- "$@" || rc=$?
  fi
  [[ -n $cmd_started_pg ]] && stop_pg_cluster "$cmd_started_pg"
  exit "$rc"
fi

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
  # The portal creates the database "panel" on its first start.
  export ConnectionStrings__Panel="Host=127.0.0.1;Port=$pg_port;Database=panel;Username=postgres;Password=$pw"
  say "database: private PostgreSQL in .local/postgres on 127.0.0.1:$pg_port (data kept between runs)"
fi

if is_root && is_debian; then
  ensure_dockerd || true
fi
docker_answers || say "no Docker engine answers at ${Docker__Endpoint:-unix:///var/run/docker.sock}; the portal starts and shows that in its app bar"

cleanup() { [[ -n $started_pg ]] && stop_pg_cluster "$started_pg"; }
trap cleanup EXIT

# A publish lays out every static asset (the portal's own and its packages' _content/ and _framework/ files), which
# `dotnet run` does not do outside Development; the published build is what runs, as in the container image.
publish_dir=$root/.local/publish
say "publishing the portal into .local/publish"
dotnet publish "$root/src/GrafanaPanel.Web" -c Release -o "$publish_dir" -p:UseAppHost=false -v quiet -nologo >/dev/null \
  || dotnet publish "$root/src/GrafanaPanel.Web" -c Release -o "$publish_dir" -p:UseAppHost=false
say "GrafanaPanel: open http://localhost:$port"
if [[ -n ${Panel__Admin__Email:-} ]]; then
  say "sign in as $Panel__Admin__Email with Panel__Admin__Password"
else
  say "first run: create the first Admin with a one-time link from \`scripts/run-portal.sh setup-link\` in another terminal (or set Panel__Admin__Email / Panel__Admin__Password)"
fi
export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Production}
export Panel__PublicUrl=${Panel__PublicUrl:-http://localhost:$port}
# Helper containers (backups, restores, resets) always use this image, never one a backup names. It needs sh, find,
# mkdir, mv, rm, df, du, stat and awk: the portal's own image as compose builds it (docker compose build panel) has them, and so
# has the stack's Debian-based postgres image, the fallback when the portal's image was never built here.
if [[ -z ${Backups__HelperImage:-} ]]; then
  Backups__HelperImage=grafana-panel:${PANEL_IMAGE_TAG:-local}
  if docker_answers && ! docker image inspect "$Backups__HelperImage" >/dev/null 2>&1; then
    stack_postgres=$(docker ps -a --filter "label=com.docker.compose.project=${Stack__ProjectName:-grafana-training}" \
      --filter label=com.docker.compose.service=postgres --format '{{.Image}}' | head -n 1)
    if [[ -n $stack_postgres ]]; then
      Backups__HelperImage=$stack_postgres
    else
      say "backups will need a helper image: build grafana-panel:local (docker compose build panel) or set Backups__HelperImage"
    fi
  fi
  export Backups__HelperImage
fi
say "helper image for backups and restores: $Backups__HelperImage"
# From the publish folder (the content root), which lies inside the checkout: the catalog the portal reads is the
# repository's deploy/portal/modules.yaml, the one an instructor edits.
cd "$publish_dir"
dotnet GrafanaPanel.Web.dll --urls "http://0.0.0.0:$port" &
portal=$!
# Ctrl-C, or a TERM to this script alone, stops the portal gracefully before the clean-up above stops PostgreSQL.
trap 'kill -TERM "$portal" 2>/dev/null' INT TERM
status=0
wait "$portal" || status=$?
# A trapped signal ends `wait` early: wait again until the portal has finished shutting down.
while kill -0 "$portal" 2>/dev/null; do
  wait "$portal" && status=0 || status=$?
done
exit "$status"
