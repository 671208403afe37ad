#!/usr/bin/env bash
# Builds the offline image set that tests/stack/docker-compose.offline.yml swaps in:
#   local/offline-base:<key>          Debian 12 root file system (debootstrap on the host: containers
#                                     here have no network, so nothing is installed inside a build)
#   local/offline-{prometheus,alertmanager,node-exporter,postgres,redis}:test   real, from Debian packages
#   local/standin-{grafana,loki,tempo,influxdb,cadvisor,alloy}:test             test stand-ins
#   local/offline-dotnet-{aspnet,sdk}:10.0                                      with --panel only
#
# Usage: tests/stack/build-images.sh [--panel]
# Env:   STACK_CACHE_DIR  where the root file system tarball and NuGet packages are cached
#                         (default /var/cache/grafana-panel-stack; outside the work tree)
#        DEBIAN_MIRROR    default http://deb.debian.org/debian
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${STACK_CACHE_DIR:-/var/cache/grafana-panel-stack}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
with_panel=false
[ "${1:-}" = "--panel" ] && with_panel=true

say() { echo "build-images: $*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || { say "'$1' is required: $2"; exit 1; }; }

need docker "apt-get install docker.io (and start dockerd)"
need zstd "apt-get install zstd"

# Everything any offline image needs. Changing this list (or trim_rootfs) changes the key, so a
# stale base is never reused.
packages=(
	prometheus prometheus-alertmanager prometheus-node-exporter
	postgresql-15 redis-server
	python3 python3-yaml curl busybox ca-certificates
	libicu72 tzdata
)

trim_rootfs() {
	local root=$1
	rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
		"$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
		"$root"/usr/share/locale/* "$root"/usr/share/javascript/moment-timezone \
		"$root"/var/lib/postgresql/15 "$root"/etc/postgresql/15
}

key=$({ printf '%s\n' "${packages[@]}"; declare -f trim_rootfs; } | sha256sum | cut -c1-12)
base=local/offline-base:$key

build_base() {
	if docker image inspect "$base" >/dev/null 2>&1; then
		return
	fi
	mkdir -p "$cache"
	local tarball=$cache/offline-base-$key.tar.zst
	if [ ! -s "$tarball" ]; then
		need debootstrap "apt-get install debootstrap"
		rm -rf "$cache"/rootfs.* # left by an interrupted run
		local root
		root=$(mktemp -d "$cache/rootfs.XXXXXX")
		say "debootstrap bookworm with ${#packages[@]} packages (about a minute)"
		local log=$cache/debootstrap.log
		if ! debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
			bookworm "$root" "$mirror" >"$log" 2>&1; then
			tail -n 20 "$log" >&2
			say "debootstrap failed (full log: $log)"
			exit 1
		fi
		trim_rootfs "$root"
		tar -C "$root" -c . | zstd -q -T0 -3 -o "$tarball.tmp"
		mv "$tarball.tmp" "$tarball"
		rm -rf "$root"
	fi
	say "importing $base"
	zstd -dc "$tarball" | docker import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'CMD ["bash"]' - "$base" >/dev/null
	docker tag "$base" local/offline-base:bookworm
}

# Runs a docker build quietly; shows its output only when it fails.
quiet_build() {
	local log
	log=$(mktemp)
	if ! docker build "$@" >"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		say "docker build $* failed"
		exit 1
	fi
	rm -f "$log"
}

build_target() { # dockerfile target image
	say "building $3"
	quiet_build --build-arg BASE="$base" -f "$here/images/$1" --target "$2" -t "$3" "$here/images"
}

# NuGet packages of the portal's project, restored on the host (which reaches the feed) into a
# folder the local SDK image carries, so a restore inside the repo's Dockerfile needs no network.
restore_panel_packages() {
	need dotnet "the .NET 10 SDK"
	local work
	work=$(mktemp -d)
	cp "$repo"/Directory.Build.props "$repo"/Directory.Packages.props "$work"/
	[ -f "$repo/nuget.config" ] && cp "$repo/nuget.config" "$work"/
	# The sources too, not just the project file: the SDK adds the framework's assets pack (blazor.web.js) only for a
	# project that has Razor components, so a restore of the bare project file would leave it out of the folder.
	tar -C "$repo" --exclude=bin --exclude=obj -c src/GrafanaPanel.Web | tar -C "$work" -x
	say "restoring the portal's NuGet packages into $cache/nuget-packages"
	for rid in "" linux-x64; do
		dotnet restore "$work/src/GrafanaPanel.Web/GrafanaPanel.Web.csproj" --packages "$cache/nuget-packages" \
			${rid:+--runtime "$rid"} -p:NuGetAudit=false --verbosity quiet >&2
	done
	rm -rf "$work"
}

build_dotnet() {
	local dotnet_root
	dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
	restore_panel_packages
	say "building local/offline-dotnet-aspnet:10.0 and local/offline-dotnet-sdk:10.0 from $dotnet_root"
	tar -c -C "$(dirname "$dotnet_root")" --transform "s,^$(basename "$dotnet_root"),dotnet," \
		"$(basename "$dotnet_root")"/{dotnet,host,shared} -C "$here/images" dotnet.Dockerfile |
		quiet_build --build-arg BASE="$base" -f dotnet.Dockerfile --target aspnet -t local/offline-dotnet-aspnet:10.0 -
	tar -c -C "$(dirname "$dotnet_root")" --transform "s,^$(basename "$dotnet_root"),dotnet," \
		"$(basename "$dotnet_root")" -C "$cache" nuget-packages -C "$here/images" dotnet.Dockerfile |
		quiet_build --build-arg BASE="$base" -f dotnet.Dockerfile --target sdk -t local/offline-dotnet-sdk:10.0 -
}

build_base
for target in prometheus alertmanager node-exporter postgres redis; do
	build_target debian.Dockerfile "$target" "local/offline-$target:test"
done
for target in grafana loki tempo influxdb cadvisor alloy; do
	build_target standins.Dockerfile "$target" "local/standin-$target:test"
done
if $with_panel; then
	build_dotnet
fi
say "done"
