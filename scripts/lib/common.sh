#!/usr/bin/env bash
# Shared helpers for scripts/run-portal.sh and scripts/test.sh: installing what is missing on Debian,
# starting dockerd, and running a private PostgreSQL cluster from the machine's server binaries.

say() { printf '\033[1m[grafanapanel]\033[0m %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

is_root() { [[ $(id -u) -eq 0 ]]; }
is_debian() { [[ -f /etc/debian_version ]]; }

_apt_updated=0
# apt_install PKG...: installs the packages that are missing, when root on Debian; otherwise says what to install.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  if ! is_root || ! is_debian; then
    die "missing packages: ${missing[*]}. Install them (e.g. sudo apt-get install ${missing[*]}) and run again."
  fi
  say "installing ${missing[*]}"
  if ((_apt_updated == 0)); then
    apt-get update -qq >/dev/null || die "apt-get update failed"
    _apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# pg_bin_dir: the newest installed PostgreSQL server's bin folder.
pg_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n $dir && -x $dir/initdb ]] || return 1
  printf '%s\n' "$dir"
}

ensure_postgres_binaries() {
  pg_bin_dir >/dev/null || apt_install postgresql
  pg_bin_dir >/dev/null || die "no PostgreSQL server binaries found under /usr/lib/postgresql/*/bin"
}

# as_pg_owner CMD...: runs a PostgreSQL server command as the cluster owner (initdb refuses root).
as_pg_owner() {
  if is_root; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# start_pg_cluster DIR PORT PASSWORD: creates the cluster in DIR if needed and starts it on 127.0.0.1:PORT.
start_pg_cluster() {
  local dir=$1 port=$2 password=$3 bin
  bin=$(pg_bin_dir)
  mkdir -p "$dir"
  if is_root; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    chown postgres: "$dir"
  fi
  chmod 700 "$dir"
  if [[ ! -f $dir/data/PG_VERSION ]]; then
    local pwfile
    pwfile=$(mktemp)
    printf '%s\n' "$password" >"$pwfile"
    is_root && chown postgres: "$pwfile"
    as_pg_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=scram-sha-256 --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { rm -f "$pwfile"; cat "$dir/initdb.log" >&2; die "initdb failed in $dir"; }
    rm -f "$pwfile"
  fi
  if as_pg_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    return 0
  fi
  as_pg_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=200" start >/dev/null \
    || { tail -n 20 "$dir/server.log" >&2; die "PostgreSQL did not start on port $port (log: $dir/server.log)"; }
}

stop_pg_cluster() {
  local dir=$1 bin
  bin=$(pg_bin_dir) || return 0
  [[ -f $dir/data/PG_VERSION ]] || return 0
  as_pg_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

docker_answers() { docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# ensure_dockerd: starts dockerd in the background when no engine answers; sets STARTED_DOCKERD=1 if it did.
STARTED_DOCKERD=0
ensure_dockerd() {
  docker_answers && return 0
  command -v dockerd >/dev/null || apt_install docker.io
  is_root || die "no Docker engine answers and only root can start dockerd here. Start Docker and run again."
  say "starting dockerd"
  mkdir -p /var/log
  nohup dockerd >/var/log/grafanapanel-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker_answers && { STARTED_DOCKERD=1; return 0; }
    sleep 1
  done
  tail -n 20 /var/log/grafanapanel-dockerd.log >&2
  die "dockerd did not answer within 60 s (log: /var/log/grafanapanel-dockerd.log)"
}

stop_dockerd() {
  ((STARTED_DOCKERD)) || return 0
  local pid
  pid=$(cat /var/run/docker.pid 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || return 0; sleep 1; done
}

# ensure_compose_v2: Debian 12 has no Compose v2; Debian 13's package carries the plugin binary.
ensure_compose_v2() {
  docker compose version >/dev/null 2>&1 && return 0
  is_root || die "Docker Compose v2 is missing: install the docker-compose-plugin and run again."
  apt_install curl ca-certificates
  say "installing the Docker Compose v2 plugin from Debian's pool"
  local tmp
  tmp=$(mktemp -d)
  curl -fsSL -o "$tmp/compose.deb" \
    http://deb.debian.org/debian/pool/main/d/docker-compose/docker-compose_2.26.1-4_amd64.deb \
    || die "could not download the Compose plugin package"
  dpkg-deb -x "$tmp/compose.deb" "$tmp/x"
  install -D -m 0755 "$tmp/x/usr/libexec/docker/cli-plugins/docker-compose" /usr/local/lib/docker/cli-plugins/docker-compose
  rm -rf "$tmp"
  docker compose version >/dev/null 2>&1 || die "Compose v2 plugin did not install"
}

random_secret() { head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 24; }

# start_throwaway_pg PORT: a fresh PostgreSQL cluster in a temp folder for tests or benchmarks; exports
# GRAFANAPANEL_TEST_POSTGRES (a superuser connection string) and THROWAWAY_PG_DIR for stop_throwaway_pg.
start_throwaway_pg() {
  local port=$1 password
  password=$(random_secret)
  THROWAWAY_PG_DIR=$(mktemp -d /tmp/grafanapanel-pg.XXXXXX)
  start_pg_cluster "$THROWAWAY_PG_DIR" "$port" "$password"
  export GRAFANAPANEL_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Password=$password;Database=postgres;Timeout=10"
}

stop_throwaway_pg() {
  [[ -n ${THROWAWAY_PG_DIR:-} ]] || return 0
  stop_pg_cluster "$THROWAWAY_PG_DIR"
  rm -rf "$THROWAWAY_PG_DIR"
}
