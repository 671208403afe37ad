#!/usr/bin/env bash
# Resets the lab to a baseline through the portal's API and waits until the reset has ended.
# Exits 0 when it succeeded, 1 when it failed or was refused, 2 on a usage or connection error.
#
#   GRAFANAPANEL_URL=https://portal:8443 GRAFANAPANEL_TOKEN=gp_… scripts/api/wait-for-reset.sh [baseline] [stack-name]
#
# baseline: a baseline's name, "factory", or empty for the default baseline.
# stack-name: the compose project's name, which a whole-stack reset needs as its confirmation.
set -euo pipefail

url=${GRAFANAPANEL_URL:?set GRAFANAPANEL_URL to the portal address, e.g. https://portal.example:8443}
token=${GRAFANAPANEL_TOKEN:?set GRAFANAPANEL_TOKEN to a personal access token (gp_...) with the Instructor scope}
baseline=${1:-}
stack=${2:-${GRAFANAPANEL_STACK:-grafana-training}}
timeout_s=${GRAFANAPANEL_RESET_TIMEOUT:-1800}
curl_opts=(--silent --show-error --header "Authorization: Bearer $token" ${GRAFANAPANEL_CURL_OPTS:-})

body=$(jq -n --arg baseline "$baseline" --arg confirm "$stack" '{baseline: $baseline, confirm: $confirm}')
answer=$(mktemp)
trap 'rm -f "$answer"' EXIT
status=$(curl "${curl_opts[@]}" --output "$answer" --write-out '%{http_code}' --dump-header "$answer.headers" \
  --header 'Content-Type: application/json' --data "$body" "$url/api/v1/resets") || exit 2
if [[ $status != 202 ]]; then
  # A problem document: its detail says why (409 also names the job that holds the stack).
  echo "reset refused ($status): $(jq -r '.detail // .title // .' "$answer")" >&2
  rm -f "$answer.headers"
  exit 1
fi

operation=$(tr -d '\r' <"$answer.headers" | awk 'tolower($1) == "location:" { print $2 }')
rm -f "$answer.headers"
echo "reset $(jq -r .id "$answer") queued; following $operation" >&2

deadline=$((SECONDS + timeout_s))
while ((SECONDS < deadline)); do
  curl "${curl_opts[@]}" --fail-with-body --output "$answer" "$url$operation" || exit 2
  state=$(jq -r .status "$answer")
  step=$(jq -r '.progress.step // ""' "$answer")
  echo "  $state${step:+ ($step)}" >&2
  case $state in
    succeeded) exit 0 ;;
    failed)
      echo "reset failed: $(jq -r '.error // "see the Resets page"' "$answer")" >&2
      exit 1
      ;;
  esac
  sleep 5
done
echo "reset did not end within ${timeout_s}s" >&2
exit 1
