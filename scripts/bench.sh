#!/usr/bin/env bash
# Runs a benchmark that prints ratios against baselines measured in the same run (not a test).
#   scripts/bench.sh overview     the overview from the portal vs `docker ps -a` and `docker system df -v`,
#                                 on the offline stack (started here, removed after) and on 200 containers
#   scripts/bench.sh backup       the portal's backup and restore (BackupRunner on the real engine) of the 880 MB mixed
#                                 volume vs the raw archive stream, busybox `tar czf`, gzip -6 and a raw archive upload
#                                 (about 6 minutes; --runs N, default 3; --scale 0.1 for a quick trial)
#   scripts/bench.sh reset        the portal's whole-stack reset vs `docker compose down -v` + `up -d --wait` with the
#                                 volumes restored from busybox tar archives, on the offline stack's lab services
# Extra arguments go to the benchmark (e.g. --iterations 50; reset: --rounds N, --megabytes N per volume,
# --stop-grace SECONDS for both sides, --safety-backup to time the portal with its safety backup too).
# Set BENCH_SKIP_STACK=1 to skip the offline stack in overview.
# The offline stack has fixed ports and one project name and is shared by every developer on this machine: it is
# used only while holding /tmp/gp-offline-stack.lock (flock), from before it is started until it is removed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/common.sh
source "$root/scripts/lib/common.sh"

bench=${1:?usage: scripts/bench.sh overview|backup|reset [options]}
shift
case $bench in
  overview | backup | reset) ;;
  *) die "unknown benchmark '$bench': overview, backup or reset" ;;
esac
apt_install docker.io postgresql busybox-static debootstrap zstd gzip curl ca-certificates
ensure_dockerd
ensure_compose_v2

stack_lock=/tmp/gp-offline-stack.lock
lock_fd=
stack_started=0

# unlocked CMD...: runs CMD without the lock's descriptor, so nothing it leaves running can hold the lock.
unlocked() {
  if [[ -n $lock_fd ]]; then
    "$@" {lock_fd}>&-
  else
    "$@"
  fi
}

# quietly CMD...: runs CMD with its output in a file, shown only when it fails.
quietly() {
  local log rc=0
  log=$(mktemp)
  "$@" >"$log" 2>&1 || rc=$?
  ((rc == 0)) || cat "$log" >&2
  rm -f "$log"
  return "$rc"
}

# lock_stack: waits for the offline stack's lock, then removes a stack that someone left behind.
lock_stack() {
  exec {lock_fd}>"$stack_lock"
  say "waiting for the offline stack ($stack_lock)"
  flock "$lock_fd"
  local project=${STACK_TEST_PROJECT:-grafana-training-test}
  if [[ -n $(docker ps -aq --filter "label=com.docker.compose.project=$project")$(docker volume ls -q --filter "label=com.docker.compose.project=$project") ]]; then
    say "removing an offline stack left behind by an earlier run"
    unlocked "$root/tests/stack/down.sh" >/dev/null 2>&1
  fi
}

# stack_down_and_unlock: removes the offline stack if this script started it, then lets the next user have it.
stack_down_and_unlock() {
  if ((stack_started)); then
    unlocked "$root/tests/stack/down.sh" >/dev/null 2>&1 || true
    stack_started=0
  fi
  if [[ -n $lock_fd ]]; then
    exec {lock_fd}>&-
    lock_fd=
  fi
}

cleanup() {
  local rc=$?
  stack_down_and_unlock
  stop_throwaway_pg
  stop_dockerd
  exit "$rc"
}
trap cleanup EXIT
start_throwaway_pg "${GRAFANAPANEL_BENCH_PG_PORT:-55434}"

# A tiny local image for synthetic containers and helpers: busybox from Debian, no registry needed.
ctx=$(mktemp -d)
cp /bin/busybox "$ctx/busybox"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox","--install","-s","/bin"]\nRUN mkdir -p /tmp\n' >"$ctx/Dockerfile"
docker build -q -t local/gp-bench-busybox:1 "$ctx" >/dev/null
rm -rf "$ctx"

# Built before the stack's lock is taken, so the lock is held only while the stack is in use (and no build server
# started under it can keep it).
say "building the portal and the benchmarks (Release)"
dotnet build "$root/src/GrafanaPanel.Web" -c Release -v quiet -nologo >/dev/null
dotnet build "$root/tests/GrafanaPanel.Benchmarks" -c Release -v quiet -nologo >/dev/null
export GRAFANAPANEL_PORTAL_DLL=$root/src/GrafanaPanel.Web/bin/Release/net10.0/GrafanaPanel.Web.dll
export GRAFANAPANEL_REPO=$root

args=("$@")
project=${STACK_TEST_PROJECT:-grafana-training-test}
case $bench in
  overview)
    if [[ -z ${BENCH_SKIP_STACK:-} ]]; then
      lock_stack
      say "starting the offline stack"
      stack_started=1
      quietly unlocked "$root/tests/stack/up.sh"
      args+=(--offline-project "$project")
    fi
    ;;
  reset)
    # The lab services only: the portal's own (panel, panel-db) are never part of a reset, nor of the recipe.
    mapfile -t lab < <("$root/tests/stack/compose.sh" config --services | grep -vx -e panel -e panel-db)
    lock_stack
    say "starting the offline stack's lab services (${#lab[@]})"
    stack_started=1
    quietly unlocked "$root/tests/stack/up.sh" "${lab[@]}"
    args+=(--offline-project "$project")
    ;;
  backup)
    # BackupRunner in-process on its own labelled project: no offline stack, no lock.
    ;;
esac
unlocked dotnet run --no-build -c Release --project "$root/tests/GrafanaPanel.Benchmarks" -- "$bench" "${args[@]}"
stack_down_and_unlock
