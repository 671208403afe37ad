#!/usr/bin/env bash
# Runs a benchmark that prints ratios against baselines measured in the same run (not a test).
#   scripts/bench.sh overview     the overview from the portal vs `docker ps -a` and `docker system df -v`,
#                                 on the offline stack (started here, removed after) and on 200 containers
#   scripts/bench.sh backup       the portal's backup and restore (BackupRunner on the real engine) of the 880 MB mixed
#                                 volume vs the raw archive stream, busybox `tar czf`, gzip -6 and a raw archive upload
#                                 (about 6 minutes; --runs N, default 3; --scale 0.1 for a quick trial)
# Extra arguments go to the benchmark (e.g. --iterations 50). Set BENCH_SKIP_STACK=1 to skip the offline stack.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/common.sh
source "$root/scripts/lib/common.sh"

bench=${1:?usage: scripts/bench.sh overview [--iterations N] | backup [--runs N] [--scale X]}
shift
case $bench in
  overview | backup) ;;
  *) die "unknown benchmark '$bench': overview or backup" ;;
esac
apt_install docker.io postgresql busybox-static debootstrap zstd gzip curl ca-certificates
ensure_dockerd
if [[ $bench == overview ]]; then
  ensure_compose_v2
fi

stack_started=0
cleanup() {
  local rc=$?
  ((stack_started)) && "$root/tests/stack/down.sh" >/dev/null 2>&1 || true
  stop_throwaway_pg
  stop_dockerd
  exit "$rc"
}
trap cleanup EXIT
# The backup benchmark drives BackupRunner in-process: no portal, no database.
if [[ $bench == overview ]]; then
  start_throwaway_pg "${GRAFANAPANEL_BENCH_PG_PORT:-55434}"
fi

# A tiny local image for synthetic containers: busybox from Debian, no registry needed.
ctx=$(mktemp -d)
cp /bin/busybox "$ctx/busybox"
printf 'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox","--install","-s","/bin"]\nRUN mkdir -p /tmp\n' >"$ctx/Dockerfile"
docker build -q -t local/gp-bench-busybox:1 "$ctx" >/dev/null
rm -rf "$ctx"

if [[ $bench == overview ]]; then
  say "building the portal (Release)"
  dotnet build "$root/src/GrafanaPanel.Web" -c Release -v quiet -nologo >/dev/null
  export GRAFANAPANEL_PORTAL_DLL=$root/src/GrafanaPanel.Web/bin/Release/net10.0/GrafanaPanel.Web.dll
fi

args=("$@")
if [[ $bench == overview && -z ${BENCH_SKIP_STACK:-} ]]; then
  say "starting the offline stack"
  stack_started=1
  "$root/tests/stack/up.sh" >/dev/null
  args+=(--offline-project "${STACK_TEST_PROJECT:-grafana-training-test}")
fi
dotnet run -c Release --project "$root/tests/GrafanaPanel.Benchmarks" -- "$bench" "${args[@]}"
