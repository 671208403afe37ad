#!/usr/bin/env bash
# Shared helpers for scripts/run-portal.sh and scripts/test.sh: installing what is missing on Debian,
# starting dockerd, and running a private PostgreSQL cluster from the machine's server binaries.

say() { printf '\033[1m[grafanapanel]\033[0m %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

is_root() { [[ $(id -u) -eq 0 ]]; }
is_debian() { [[ -f /etc/debian_version ]]; }

_apt_updated=0
apt_update_once() {
  ((_apt_updated)) && return 0
  apt-get update -qq >/dev/null || die "apt-get update failed"
  _apt_updated=1
}

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
  apt_update_once
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

# ensure_compose_v2: the Docker Compose v2 plugin (`docker compose`), from Debian's packages by name:
#   1. this release's own package, when it has Compose v2: docker-compose-plugin (Docker's apt repository, or a
#      release that packages it under that name), else docker-compose at version 2 or later (Debian 13 and later);
#   2. otherwise (Debian 12 packages only Compose v1, 1.29) the fallback: the docker-compose package of
#      COMPOSE_FALLBACK_SUITE (default trixie) from COMPOSE_FALLBACK_MIRROR (default the Debian mirror), fetched by
#      apt itself into a private apt state (signed index, this machine's architecture, whatever its file name),
#      and only its plugin binary installed into COMPOSE_PLUGIN_DIR (default /usr/local/lib/docker/cli-plugins).
#      The package itself is not installed, so nothing of the newer release enters dpkg's database.
# docs/testing.md ("Compose v2") describes both.
ensure_compose_v2() {
  docker compose version >/dev/null 2>&1 && return 0
  is_root && is_debian || die "Docker Compose v2 is missing: install your distribution's docker-compose-plugin (or docker-compose 2.x) and run again."
  apt_update_once
  if [[ -n $(apt_candidate docker-compose-plugin) ]]; then
    apt_install docker-compose-plugin
  elif (($(major_version "$(apt_candidate docker-compose)") >= 2)); then
    apt_install docker-compose
  else
    install_compose_plugin_from_suite "${COMPOSE_FALLBACK_SUITE:-trixie}"
  fi
  docker compose version >/dev/null 2>&1 || die "the Compose v2 plugin did not install: 'docker compose version' fails"
}

# apt_candidate PKG: the version apt would install (empty when this release has no such package); after apt_update_once.
apt_candidate() {
  apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

# major_version VERSION: the major number of a Debian version (epoch and revision aside); 0 when there is none.
major_version() {
  local version=${1#*:}
  version=${version%%.*}
  [[ $version =~ ^[0-9]+$ ]] && printf '%s\n' "$version" || printf '0\n'
}

# install_compose_plugin_from_suite SUITE: the fallback of ensure_compose_v2 (see there).
install_compose_plugin_from_suite() {
  local suite=$1 mirror=${COMPOSE_FALLBACK_MIRROR:-http://deb.debian.org/debian}
  local target=${COMPOSE_PLUGIN_DIR:-/usr/local/lib/docker/cli-plugins}
  local tmp deb version plugin
  tmp=$(mktemp -d)
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/parts" "$tmp/download"
  printf 'deb %s %s main\n' "$mirror" "$suite" >"$tmp/sources.list"
  local apt_options=(
    -o "Dir::Etc::SourceList=$tmp/sources.list" -o "Dir::Etc::SourceParts=$tmp/parts"
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache"
    -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "APT::Sandbox::User=root"
  )
  say "this release has no Compose v2 package: fetching docker-compose from Debian $suite ($mirror) for its plugin"
  apt-get "${apt_options[@]}" update -qq >"$tmp/apt.log" 2>&1 \
    || { cat "$tmp/apt.log" >&2; rm -rf "$tmp"; die "could not read Debian $suite's package index from $mirror (set COMPOSE_FALLBACK_SUITE or COMPOSE_FALLBACK_MIRROR, or install docker-compose-plugin)"; }
  (cd "$tmp/download" && apt-get "${apt_options[@]}" download -qq docker-compose >"$tmp/apt.log" 2>&1) \
    || { cat "$tmp/apt.log" >&2; rm -rf "$tmp"; die "could not download docker-compose from Debian $suite"; }
  deb=$(ls "$tmp"/download/docker-compose_*.deb)
  version=$(dpkg-deb -f "$deb" Version)
  if (($(major_version "$version") < 2)); then
    rm -rf "$tmp"
    die "Debian $suite's docker-compose is $version, not Compose v2: set COMPOSE_FALLBACK_SUITE to a release that has it"
  fi
  dpkg-deb -x "$deb" "$tmp/x"
  plugin=$(ls "$tmp"/x/usr/libexec/docker/cli-plugins/docker-compose "$tmp"/x/usr/lib/docker/cli-plugins/docker-compose 2>/dev/null | head -n 1)
  [[ -n $plugin ]] || { rm -rf "$tmp"; die "docker-compose $version from Debian $suite holds no CLI plugin"; }
  install -D -m 0755 "$plugin" "$target/docker-compose"
  say "installed the Compose plugin $version ($(dpkg-deb -f "$deb" Architecture)) from Debian $suite into $target"
  rm -rf "$tmp"
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
