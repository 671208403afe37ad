#!/usr/bin/env bash
# Writes the stack's .env: every variable of .env.example, with each secret generated (long random
# letters and digits from /dev/urandom) and DOCKER_GID read from the Docker socket. It never
# overwrites an existing file: some secrets are baked into volumes at first start (PostgreSQL,
# InfluxDB), so a new .env would lock the stack out of its own data.
#
# Usage: scripts/stack-init.sh [--output FILE]     default FILE: .env beside docker-compose.yml
# Env:   DOCKER_SOCKET  the socket whose group the portal joins (default /var/run/docker.sock)
#        DOCKER_GID     use this group id instead of reading it from the socket
# The secrets are written to FILE only (mode 600), never printed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '[stack-init] %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

output=$root/.env
while [[ $# -gt 0 ]]; do
  case $1 in
    --output) [[ $# -ge 2 ]] || die "--output needs a file name"; output=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (usage: scripts/stack-init.sh [--output FILE])" ;;
  esac
done

example=$root/.env.example
[[ -f $example ]] || die "$example is missing: it lists the variables .env must hold"

if [[ -e $output ]]; then
  die "$output already exists; it is left unchanged. It holds this stack's secrets, and some of them are
  already stored in the volumes (PostgreSQL, InfluxDB): new ones would lock the stack out of its data.
  To start afresh on purpose, stop the stack, remove its volumes (docker compose down --volumes) and
  move $output away first."
fi

# The secrets generated, each with its length. All are letters and digits (Redis's password sits in
# a connection string where ',' and '=' are separators); Grafana's admin password also needs a symbol.
declare -A lengths=(
  [GRAFANA_ADMIN_PASSWORD]=32
  [GRAFANA_SECRET_KEY]=48
  [GRAFANA_DB_PASSWORD]=32
  [POSTGRES_PASSWORD]=32
  [REDIS_PASSWORD]=32
  [INFLUXDB_ADMIN_PASSWORD]=32
  [INFLUXDB_ADMIN_TOKEN]=64
  [PANEL_DB_PASSWORD]=32
  [PANEL_METRICS_TOKEN]=48
)

# N random letters and digits (about 5.95 bits each).
random_alnum() {
  local n=$1 text=""
  while [[ ${#text} -lt $n ]]; do
    text+=$(head -c 96 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9')
  done
  printf '%s' "${text:0:n}"
}

# Grafana's password policy: upper case, lower case, a digit and a symbol.
grafana_password() {
  local n=$1 candidate
  while :; do
    candidate="$(random_alnum $((n / 2)))-$(random_alnum $((n - n / 2)))"
    [[ $candidate =~ [A-Z] && $candidate =~ [a-z] && $candidate =~ [0-9] ]] && break
  done
  printf '%s' "$candidate"
}

if [[ -n ${DOCKER_GID:-} ]]; then
  docker_gid=$DOCKER_GID
else
  socket=${DOCKER_SOCKET:-/var/run/docker.sock}
  [[ -S $socket ]] || die "$socket is not a socket: is Docker running here? Set DOCKER_SOCKET (or DOCKER_GID) and run again."
  docker_gid=$(stat -c %g "$socket")
fi
[[ $docker_gid =~ ^[0-9]+$ ]] || die "DOCKER_GID must be a numeric group id, not '$docker_gid'"

# Every secret the script generates must be a variable of .env.example, and the other way round for
# the empty ones, so neither file drifts from the other.
for name in "${!lengths[@]}"; do
  grep -q "^$name=" "$example" || die "$example has no $name: the two files disagree"
done

content=""
while IFS= read -r line || [[ -n $line ]]; do
  if [[ $line =~ ^([A-Z][A-Z0-9_]*)=(.*)$ ]]; then
    name=${BASH_REMATCH[1]}
    if [[ -n ${lengths[$name]:-} ]]; then
      if [[ $name == GRAFANA_ADMIN_PASSWORD ]]; then
        line="$name=$(grafana_password "${lengths[$name]}")"
      else
        line="$name=$(random_alnum "${lengths[$name]}")"
      fi
    elif [[ $name == DOCKER_GID ]]; then
      line="$name=$docker_gid"
    fi
  fi
  content+=$line$'\n'
done <"$example"

# noclobber: the file is created here or not at all, even if another run got there first.
mkdir -p "$(dirname "$output")"
( umask 077; set -o noclobber; printf '%s' "$content" >"$output" ) 2>/dev/null ||
  die "could not create $output (it appeared meanwhile, or the folder is not writable)"

say "wrote $output (mode 600) with generated secrets and DOCKER_GID=$docker_gid."
say "Review PANEL_PUBLIC_HOST and the ports in it, then: docker compose up -d --wait"
