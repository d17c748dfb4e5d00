#!/usr/bin/env bash
# A private container platform for the deployment test, on machines where no image registry answers:
# Debian's Docker engine on its OWN socket and data folder, a local registry on 127.0.0.1:5000, and
# base images built here (Debian rootfs, ASP.NET Core runtime, PostgreSQL, Redis, nginx, Node).
#
#   scripts/container-platform/platform.sh setup    install, build what is missing (idempotent); leaves the
#                                                   daemon as found unless SHOP_PLATFORM_KEEP_RUNNING=1
#   scripts/container-platform/platform.sh start    start the daemon and the registry
#   scripts/container-platform/platform.sh stop     stop them (data, images and caches stay); refused while a
#                                                   registered user runs, unless --force
#   scripts/container-platform/platform.sh acquire PID   set up and start for process PID (a user of the daemon)
#   scripts/container-platform/platform.sh release PID   PID is done; the last user stops a daemon a user started
#   scripts/container-platform/platform.sh status   exit 0 if the daemon answers and the images exist
#   scripts/container-platform/platform.sh env      print the DOCKER_HOST line for this platform
#   scripts/container-platform/platform.sh present  exit 0 if set up once here (packages and images; daemon may be stopped)
#
# Never the default socket (/var/run/docker.sock) and never a global DOCKER_HOST: the AppHost runs
# PostgreSQL/Redis as containers as soon as `docker info` answers, which would change `./shop run`
# and `./shop test` for everyone on the machine. Only callers that set DOCKER_HOST themselves see it.
set -euo pipefail

PLATFORM_DIR="${SHOP_PLATFORM_DIR:-/var/lib/shop-platform}"
SOCKET="$PLATFORM_DIR/docker.sock"
DOCKER_HOST_VALUE="unix://$SOCKET"
REGISTRY_ADDR=127.0.0.1:5000
# The image names the AppHost uses with --Shop:Publish:BaseImages=local (ShopInfrastructure.Images).
LOCAL_PREFIX=localhost:5000/shop-local
IMAGES_DIR="$(cd "$(dirname "$0")" && pwd)/images"
# Debian's 20.10 client: BuildKit built in; the 28.x client first on PATH has no buildx.
DOCKER=/usr/bin/docker

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
# as_root's prefix, for a command that is exec'd (detached).
AS_ROOT=(); [ "$(id -u)" -eq 0 ] || AS_ROOT=(sudo)
d() { DOCKER_HOST="$DOCKER_HOST_VALUE" "$DOCKER" "$@"; }
. "$(dirname "$0")/../apt-packages.sh"

install_packages() {
  # Debian's packages would try to start a system-wide dockerd on the default socket; without systemd
  # nothing does (policy-rc.d), and we check below that the default socket stays silent.
  apt_install docker.io docker-compose docker-registry debootstrap openssl jq
}

# detached LOG COMMAND...: COMMAND as a daemon (own session, output to LOG), holding none of this script's open
# files. A daemon outlives whoever started it, and an inherited descriptor of a lock file keeps that lock (flock)
# for the daemon's lifetime: the deploy test's lock, inherited by dockerd and the registry, had every later deploy
# test wait 30 minutes for a daemon that never exits. $! is the daemon's pid.
detached() {
  local log="$1"; shift
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi
    done
    exec setsid "$@" >>"$log" 2>&1 </dev/null
  ) &
}

daemon_answers() { [ -S "$SOCKET" ] && timeout 10 "$DOCKER" -H "$DOCKER_HOST_VALUE" info >/dev/null 2>&1; }

start_daemon() {
  daemon_answers && return 0
  as_root mkdir -p "$PLATFORM_DIR"/{data,exec,logs}
  if [ -f "$PLATFORM_DIR/docker.pid" ] && ! kill -0 "$(cat "$PLATFORM_DIR/docker.pid")" 2>/dev/null; then
    as_root rm -f "$PLATFORM_DIR/docker.pid" "$SOCKET"
  fi
  log "Starting dockerd on $SOCKET (data in $PLATFORM_DIR/data)"
  detached "$PLATFORM_DIR/logs/dockerd.log" "${AS_ROOT[@]}" dockerd --data-root "$PLATFORM_DIR/data" --exec-root "$PLATFORM_DIR/exec" \
    -H "$DOCKER_HOST_VALUE" --pidfile "$PLATFORM_DIR/docker.pid"
  for _ in $(seq 1 60); do daemon_answers && return 0; sleep 0.5; done
  echo "dockerd did not answer on $SOCKET; see $PLATFORM_DIR/logs/dockerd.log" >&2
  tail -20 "$PLATFORM_DIR/logs/dockerd.log" >&2
  exit 1
}

registry_answers() { curl -fsS -m 3 "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1; }

start_registry() {
  registry_answers && return 0
  mkdir -p "$PLATFORM_DIR/registry"
  # The packaged config turns on htpasswd auth; this one is open but listens on loopback only.
  cat >"$PLATFORM_DIR/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $PLATFORM_DIR/registry
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
EOF
  log "Starting the local registry on $REGISTRY_ADDR"
  detached "$PLATFORM_DIR/logs/registry.log" docker-registry serve "$PLATFORM_DIR/registry.yml"
  echo $! >"$PLATFORM_DIR/registry.pid"
  for _ in $(seq 1 40); do registry_answers && return 0; sleep 0.25; done
  echo "The registry did not answer on $REGISTRY_ADDR; see $PLATFORM_DIR/logs/registry.log" >&2
  exit 1
}

stop_pid_file() {
  local file="$1" name="$2"
  [ -f "$file" ] || return 0
  local pid; pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    log "Stopping $name ($pid)"
    as_root kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  fi
  as_root rm -f "$file"
}

cmd_stop() {
  stop_pid_file "$PLATFORM_DIR/registry.pid" "the registry"
  stop_pid_file "$PLATFORM_DIR/docker.pid" "dockerd"
  rm -f "$STARTED_FOR_USERS"
}

# ---- users of a running daemon --------------------------------------------------------------------
# The deployment test and ./shop test --containers share one daemon and may run at the same time (also
# from different worktrees). Each registers its pid while it uses the daemon; a daemon one of them
# started is stopped by the last to leave, and never under another's feet.
USERS_DIR="$PLATFORM_DIR/users"
STARTED_FOR_USERS="$PLATFORM_DIR/started-for-users"

# fd 7 holds the lock; the daemons started under it do not inherit it (detached).
lock_users() { as_root mkdir -p "$USERS_DIR"; exec 7>"$PLATFORM_DIR/users.lock"; flock -w 1800 7; }

# Prints the live users' pids; forgets those whose process is gone (killed runs).
live_users() {
  local file pid
  for file in "$USERS_DIR"/*; do
    [ -e "$file" ] || continue
    pid=$(basename "$file")
    if kill -0 "$pid" 2>/dev/null; then echo "$pid"; else rm -f "$file"; fi
  done
}

cmd_acquire() {
  local pid="${1:?usage: platform.sh acquire PID}"
  lock_users
  daemon_answers || touch "$STARTED_FOR_USERS"
  SHOP_PLATFORM_KEEP_RUNNING=1 cmd_setup
  touch "$USERS_DIR/$pid"
}

cmd_release() {
  local pid="${1:?usage: platform.sh release PID}"
  lock_users
  rm -f "$USERS_DIR/$pid"
  if [ -z "$(live_users)" ] && [ -f "$STARTED_FOR_USERS" ]; then cmd_stop; fi
}

# ---- base images -------------------------------------------------------------------------------

# A hash of an image's build directory (and extra inputs): rebuilt only when it changes.
content_hash() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum; shift; printf '%s\n' "$@") | sha256sum | cut -c1-16; }

image_current() { [ "$(d image inspect -f '{{index .Config.Labels "shop.local.hash"}}' "$1" 2>/dev/null)" = "$2" ]; }

debian_mirror() {
  awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || echo http://deb.debian.org/debian
}

build_debian() {
  local image="$LOCAL_PREFIX/debian:bookworm" mirror; mirror=$(debian_mirror)
  local hash; hash=$(printf 'bookworm minbase %s' "$mirror" | sha256sum | cut -c1-16)
  image_current "$image" "$hash" && return 0
  local tarball="$PLATFORM_DIR/cache/debian-bookworm-$hash.tar"
  if [ ! -f "$tarball" ]; then
    log "debootstrap bookworm from $mirror"
    local rootfs="$PLATFORM_DIR/cache/rootfs"
    as_root rm -rf "$rootfs"; as_root mkdir -p "$rootfs"
    as_root debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$PLATFORM_DIR/logs/debootstrap.log" 2>&1
    local security; security=$(awk '/^URIs:/ { n++ } n==2 && /^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
    {
      echo "deb $mirror bookworm main"
      echo "deb $mirror bookworm-updates main"
      [ -n "$security" ] && echo "deb $security bookworm-security main"
    } | as_root tee "$rootfs/etc/apt/sources.list" >/dev/null
    as_root rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
    as_root tar -C "$rootfs" -cf "$tarball.tmp" . && as_root mv "$tarball.tmp" "$tarball"
    as_root rm -rf "$rootfs"
  fi
  log "Importing $image"
  d import -c "LABEL shop.local.hash=$hash" -c 'CMD ["bash"]' "$tarball" "$image" >/dev/null
}

# build NAME TAG [extra hash inputs]: images/NAME/Dockerfile FROM the local Debian image.
build_image() {
  local name="$1" tag="$2"; shift 2
  local image="$LOCAL_PREFIX/$name:$tag" context="$PLATFORM_DIR/build/$name"
  local hash; hash=$(content_hash "$IMAGES_DIR/$name" "$(d image inspect -f '{{.Id}}' "$LOCAL_PREFIX/debian:bookworm")" "$@")
  image_current "$image" "$hash" && return 0
  log "Building $image"
  as_root rm -rf "$context"; mkdir -p "$context"
  cp -a "$IMAGES_DIR/$name/." "$context/"
  case "$name" in
    aspnet)
      # The runtime the SDK already carries: host, hostfxr and the two shared frameworks.
      local version; version=$(dotnet --list-runtimes | awk '$1 == "Microsoft.AspNetCore.App" && $2 ~ /^10\./ { v = $2 } END { print v }')
      [ -n "$version" ] || { echo "No ASP.NET Core 10 runtime in the local .NET install." >&2; exit 1; }
      local root; root=$(dirname "$(readlink -f "$(command -v dotnet)")")
      mkdir -p "$context/dotnet/shared" "$context/dotnet/host"
      cp -a "$root/dotnet" "$root/LICENSE.txt" "$context/dotnet/"
      cp -a "$root/host/fxr" "$context/dotnet/host/"
      for fx in Microsoft.NETCore.App Microsoft.AspNetCore.App; do
        mkdir -p "$context/dotnet/shared/$fx" && cp -a "$root/shared/$fx/$version" "$context/dotnet/shared/$fx/"
      done ;;
    node)
      cp -a "$(readlink -f "$(command -v node)")" "$context/node"
      mkdir -p "$context/node_modules" && cp -a /usr/lib/node_modules/npm "$context/node_modules/"
      mkdir -p "$context/host-ca" && find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$context/host-ca/" \; ;;
  esac
  DOCKER_BUILDKIT=1 d build -q --build-arg "BASE=$LOCAL_PREFIX/debian:bookworm" --label "shop.local.hash=$hash" \
    -t "$image" "$context" >"$PLATFORM_DIR/logs/build-$name.log" 2>&1 \
    || { tail -30 "$PLATFORM_DIR/logs/build-$name.log" >&2; exit 1; }
  rm -rf "$context"
  # The SDK's container build pulls its base image from a registry; compose and docker build use the
  # others straight from the daemon (pushing them only costs time).
  if [ "$name" = aspnet ]; then d push -q "$image" >/dev/null; fi
}

build_images() {
  as_root mkdir -p "$PLATFORM_DIR/cache" "$PLATFORM_DIR/build"
  build_debian
  # One at a time: the machine is shared (2 cores).
  build_image aspnet 10.0 "$(dotnet --list-runtimes | grep ' 10\.' | tr '\n' ' ')"
  build_image postgres 15
  build_image redis 7
  build_image nginx 1.27
  build_image node 20 "$(node --version)" "$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null | sha256sum)"
}

images_present() {
  local name
  for name in debian:bookworm aspnet:10.0 postgres:15 redis:7 nginx:1.27 node:20; do
    d image inspect "$LOCAL_PREFIX/$name" >/dev/null 2>&1 || return 1
  done
}

check_default_socket_silent() {
  # What the AppHost's detection and ./shop's container_runtime_answers see.
  if env -u DOCKER_HOST timeout 5 docker info >/dev/null 2>&1; then
    echo "WARNING: plain 'docker info' answers (default socket): ./shop run/test would switch to containers." >&2
    return 1
  fi
}

cmd_setup() {
  install_packages
  local was_running=0
  daemon_answers && was_running=1
  start_daemon
  start_registry
  build_images
  check_default_socket_silent
  touch "$PLATFORM_DIR/ready"
  if [ $was_running -eq 0 ] && [ -z "${SHOP_PLATFORM_KEEP_RUNNING:-}" ] && [ -z "$(live_users)" ]; then
    # Leave the machine as found: the daemon runs only while something uses it (deploy-test starts it).
    cmd_stop
    log "Container platform set up (stopped; './shop platform start' starts it on $SOCKET)"
  else
    log "Container platform ready: DOCKER_HOST=$DOCKER_HOST_VALUE (set it per command only)"
  fi
}

case "${1:-}" in
  setup) cmd_setup ;;
  start) start_daemon; start_registry ;;
  stop)
    users=$(live_users | tr '\n' ' ')
    if [ -n "$users" ] && [ "${2:-}" != --force ]; then
      echo "The daemon is in use by pid(s) $users(deploy test, ./shop test --containers); not stopped. 'stop --force' stops it anyway." >&2
      exit 1
    fi
    cmd_stop ;;
  acquire) shift; cmd_acquire "$@" ;;
  release) shift; cmd_release "$@" ;;
  status) daemon_answers && registry_answers && images_present ;;
  env) echo "DOCKER_HOST=$DOCKER_HOST_VALUE" ;;
  present) [ -f "$PLATFORM_DIR/ready" ] && command -v dockerd >/dev/null && command -v docker-compose >/dev/null ;;
  installed) command -v dockerd >/dev/null && command -v docker-compose >/dev/null && command -v docker-registry >/dev/null ;;
  *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
