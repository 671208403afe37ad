#!/usr/bin/env bash
# Builds the offline image set and starts the real docker-compose.yml with it (see compose.sh),
# waiting until every started service is healthy.
# Usage: tests/stack/up.sh [service...]   no service: the whole stack, the portal included
# Env:   STACK_WAIT_TIMEOUT  seconds to wait for health (default 300); see compose.sh for the rest
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
timeout=${STACK_WAIT_TIMEOUT:-300}

with_panel=false
if [ $# -eq 0 ]; then
	with_panel=true
else
	for service in "$@"; do
		[ "$service" = panel ] && with_panel=true
	done
fi

if $with_panel; then
	"$here/build-images.sh" --panel
	if [ ! -f "$repo/Dockerfile" ]; then
		echo "up.sh: the portal's Dockerfile ($repo/Dockerfile) does not exist yet" >&2
		exit 1
	fi
	"$here/compose.sh" build panel
else
	"$here/build-images.sh"
fi

if ! "$here/compose.sh" up --detach --no-build --wait --wait-timeout "$timeout" "$@"; then
	echo "up.sh: the stack did not become healthy within ${timeout}s" >&2
	"$here/compose.sh" ps --all >&2 || true
	"$here/compose.sh" logs --no-color --tail 30 "$@" >&2 || true
	exit 1
fi
"$here/compose.sh" ps
