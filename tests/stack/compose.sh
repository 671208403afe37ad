#!/usr/bin/env bash
# `docker compose` on the offline test stack: the real docker-compose.yml plus
# docker-compose.offline.yml, under the test project name and env file, so that it never touches
# an instructor's own stack. Example: tests/stack/compose.sh ps
# Env: STACK_TEST_PROJECT   compose project name (default grafana-training-test)
#      STACK_TEST_ENV_FILE  env file (default tests/stack/test.env)
#      DOCKER_GID           group of the Docker socket for the portal (default: read from the socket)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
DOCKER_GID=${DOCKER_GID:-$(stat -c %g /var/run/docker.sock 2>/dev/null || echo 999)}
export DOCKER_GID

exec docker compose \
	--project-directory "$repo" \
	--project-name "${STACK_TEST_PROJECT:-grafana-training-test}" \
	--env-file "${STACK_TEST_ENV_FILE:-$here/test.env}" \
	-f "$repo/docker-compose.yml" \
	-f "$here/docker-compose.offline.yml" \
	"$@"
