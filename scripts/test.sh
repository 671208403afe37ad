#!/usr/bin/env bash
# Runs every GrafanaPanel test against real parts. On a fresh Debian machine (as root) it first installs
# what is missing: docker.io, the Compose v2 plugin, PostgreSQL, Chromium and the stack's checking tools;
# starts dockerd if no engine answers and a throwaway PostgreSQL cluster; runs `dotnet test`; and stops
# what it started. Extra arguments go to `dotnet test` (e.g. --filter FullyQualifiedName~Accounts).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib/common.sh
source "$root/scripts/lib/common.sh"

command -v dotnet >/dev/null || die "the .NET 10 SDK is needed (dotnet not found on PATH)"

# What the tests use: Docker engine + Compose v2, PostgreSQL server binaries, Chromium for Playwright,
# promtool/amtool for the stack's configuration, debootstrap/busybox/zstd for the offline images, curl and jq for the API script test.
apt_install docker.io postgresql chromium prometheus prometheus-alertmanager busybox-static debootstrap zstd curl jq ca-certificates
ensure_dockerd
ensure_compose_v2

pg_port=${GRAFANAPANEL_TEST_PG_PORT:-55433}
cleanup() {
  local rc=$?
  stop_throwaway_pg
  stop_dockerd
  exit "$rc"
}
trap cleanup EXIT
start_throwaway_pg "$pg_port"
export GRAFANAPANEL_CHROMIUM=${GRAFANAPANEL_CHROMIUM:-/usr/bin/chromium}
say "PostgreSQL for tests on 127.0.0.1:$pg_port; Docker $(docker version --format '{{.Server.Version}}')"

results=$(mktemp -d /tmp/grafanapanel-test-results.XXXXXX)
say "building the solution"
build_started=$SECONDS
dotnet build "$root/GrafanaPanel.sln" -v quiet -nologo
build_seconds=$((SECONDS - build_started))
# One test project at a time: the stack tests start the whole offline stack, and two projects
# competing for 2 cores and one Docker engine only make both slower and flakier.
rc=0
durations=()
for project in GrafanaPanel.Web.Tests GrafanaPanel.IntegrationTests GrafanaPanel.StackTests; do
  say "testing $project"
  started=$SECONDS
  set +e
  dotnet test "$root/tests/$project" --no-build --logger "console;verbosity=normal" "$@" 2>&1 | tee "$results/$project.log"
  project_rc=${PIPESTATUS[0]}
  set -e
  ((project_rc == 0)) || rc=$project_rc
  # A run cut short (killed, or its test host crashed) can exit 0 without a summary: that is a failure too.
  if ! grep -qE '^Total tests: [0-9]+|No test matches the given testcase filter' "$results/$project.log"; then
    say "$project did not finish (no summary from dotnet test)"
    ((rc != 0)) || rc=1
  fi
  cat "$results/$project.log" >>"$results/output.log"
  durations+=("$(printf '%-32s %4d:%02d  %s' "$project" $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)) \
    "$(sed -nE 's/^ +(Passed|Failed|Skipped): +([0-9]+) *$/\2 \1/p' "$results/$project.log" | tr '\n' ' ' | tr 'A-Z' 'a-z')")")
done

# One plain closing line over all test projects.
passed=0 failed=0 skipped=0
while read -r kind count; do
  case $kind in
    Passed) passed=$((passed + count)) ;;
    Failed) failed=$((failed + count)) ;;
    Skipped) skipped=$((skipped + count)) ;;
  esac
done < <(sed -nE 's/^ +(Passed|Failed|Skipped): +([0-9]+) *$/\1 \2/p' "$results/output.log")
rm -rf "$results"
# Where the time goes, so the suite's cost stays visible as it grows.
say "time per test project (build: $((build_seconds / 60)):$(printf '%02d' $((build_seconds % 60))))"
printf '  %s\n' "${durations[@]}" >&2
echo "tests: $passed passed, $failed failed, $skipped skipped"
if ((rc == 0 && passed == 0)); then
  say "no test ran"
  exit 1
fi
exit "$rc"
