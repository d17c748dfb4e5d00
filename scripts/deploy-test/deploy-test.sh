#!/usr/bin/env bash
# ./shop deploy-test: the compose deployment started for real on the private container platform
# (scripts/container-platform/platform.sh) and driven end to end through its gateway.
#
# Phases: platform, publish, images (and the web image alongside), up + health, journey, database restart,
# the key rotations of docs/deploy.md, TLS, the client's address, down. Each prints its time; the last line says what passed and the machine's load. Exit code 0
# only if every phase passed.
# Options: --keep (on failure, leave the deployment and the daemon for inspection), --no-tls (skip the HTTPS
# phase), --cold (a first run: rebuild the AppHost, the services and the web image from scratch, see below).
# --down alone takes down what a --keep run left (the next run does it too) and exits.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
PLATFORM="$ROOT/scripts/container-platform/platform.sh"

KEEP=0; TLS=1; COLD=0; DOWN=0
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1;; --no-tls) TLS=0;; --cold) COLD=1;; --down) DOWN=1;;
    *) echo "usage: ./shop deploy-test [--keep] [--no-tls] [--cold] | ./shop deploy-test --down" >&2; exit 2;;
  esac
done
# The .NET services whose images the deployment runs (--cold deletes their Release builds).
SERVICE_PROJECTS=(Shop.Users Shop.Orders Shop.Inventory Shop.Gateway Shop.ServiceDefaults)
FRESH_BUILD=(); FRESH_IMAGE=()
if [ $COLD -eq 1 ]; then FRESH_BUILD=(--no-incremental); FRESH_IMAGE=(--no-cache); fi

PROJECT=shop-deploy-test
# Ports nobody else's stack uses (./shop run's gateway is 8080).
HTTP_PORT="${SHOP_DEPLOY_TEST_PORT:-18080}"
HTTPS_PORT="${SHOP_DEPLOY_TEST_HTTPS_PORT:-18443}"
# The journey's webhook receiver (plain HTTP on the compose network's gateway address), on a port
# Orders' production rule allows (80, 443): the override below lifts only the address and scheme rules.
HOOK_PORT="${SHOP_DEPLOY_TEST_HOOK_PORT:-80}"
# The local base images (the only setting that selects them) and a tag of our own.
IMAGE_REGISTRY=shop-deploy-test IMAGE_TAG=test
PUBLISH_ARGS=(--Shop:Publish:BaseImages=local --Shop:Publish:Registry=$IMAGE_REGISTRY --Shop:Publish:Tag=$IMAGE_TAG
  --Shop:GatewayPort="$HTTP_PORT" --Shop:Publish:HttpsPort="$HTTPS_PORT")

# One deployment test at a time on this machine (same project name, ports and daemon); the clock starts
# once this one has the machine.
LOCK="${SHOP_DEPLOY_TEST_LOCK:-/tmp/shop-deploy-test.lock}"  # another file only for DeployTestLockTests
# The folder of the deployment a --keep run left running: --down or the next run takes it down.
KEPT="${LOCK%.lock}.kept"
# lock_holders: "PID COMMAND" of each process that has the lock file open (those /proc shows: all, as root).
lock_holders() {
  # find fails on the processes that end while it looks.
  { find /proc/[0-9]*/fd -maxdepth 1 -lname "$LOCK" 2>/dev/null || true; } | cut -d/ -f3 | sort -un | while read -r pid; do
    echo "$pid $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-150)"
  done
}
# Waits while another deploy test holds the lock. Any other holder is a process that inherited the lock from a
# deploy test and outlived it (a daemon started by an older platform.sh): it would keep it for ever, so say which
# and how to stop it instead of waiting 30 minutes for nothing.
deadline=$(( $(date +%s) + 1800 )); announced=""
until { exec 9>"$LOCK"; flock -n 9; }; do
  exec 9>&-  # closed while looking, or this script and its children would be among the holders
  holders=$(lock_holders)
  # This script, or a copy of it under another name (deploy-test-*.sh).
  runner=$(grep -m1 -E 'deploy-test[^ /]*\.sh' <<<"$holders" | cut -d' ' -f1 || true)
  if [ -z "$runner" ] && [ -n "$holders" ]; then
    echo "The deploy test's lock ($LOCK) is held by processes that are not a deploy test:" >&2
    sed 's/^/  pid /' <<<"$holders" >&2
    echo "An earlier deploy test started them with the lock open, and they keep it while they run. Stop them, then run" \
      "./shop deploy-test again: the platform's dockerd, containerd and registry with ./shop platform stop (it refuses" \
      "while another user of the daemon runs: wait for that one), any other process with kill PID." >&2
    exit 1
  fi
  if [ -z "$announced" ]; then
    announced=1
    echo "Waiting for the deploy test on this machine${runner:+ (pid $runner)} to finish…"
  fi
  [ "$(date +%s)" -lt "$deadline" ] || { echo "another deploy test held the lock for 30 minutes" >&2; exit 1; }
  sleep 5
done
WORK="$(mktemp -d /tmp/shop-deploy-test.XXXXXX)"
COMPOSE_DIR="$WORK/compose"

T0=$(date +%s.%N)
PHASE_START=$T0
PASSED=()
CURRENT=""
# phase LABEL DESCRIPTION: the label names the phase in the closing line.
phase() { CURRENT="$1"; PHASE_START=$(date +%s.%N); printf '\033[1;34m==>\033[0m [%s] %s: %s\n' "$(elapsed "$T0")" "$1" "$2"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%6.1fs", b - a }'; }
done_phase() { printf '    done in %s\n' "$(elapsed "$PHASE_START")"; PASSED+=("$CURRENT"); }
# Other people's work on the same cores slows every phase: each run says how busy the machine was.
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "Load average at start: $(load) ($(nproc) cores)"

# This script's daemon only: DOCKER_HOST is set for this process and its children, never globally.
eval "export $("$PLATFORM" env)"
DOCKER=/usr/bin/docker
compose() { docker-compose -p "$PROJECT" --project-directory "$COMPOSE_DIR" -f "$COMPOSE_DIR/docker-compose.v1.yaml" -f "$COMPOSE_DIR/deploy-test.override.yaml" "$@"; }

cleanup() {
  local status=$?
  local job
  for job in "${WEB_BUILD:-}" "${UP:-}" "${PROBE:-}"; do
    # || true: a job with no children left (the probe has none) would otherwise end the trap here, under set -e.
    if [ -n "$job" ]; then pkill -P "$job" 2>/dev/null || true; kill "$job" 2>/dev/null || true; fi
  done
  if [ $KEEP -eq 0 ] || [ $DOWN -eq 1 ]; then
    if [ -f "$COMPOSE_DIR/docker-compose.v1.yaml" ]; then
      [ $status -ne 0 ] && { echo "--- last logs ---"; compose logs --tail=30 2>/dev/null | tail -120; } || true
      compose down -v --remove-orphans >/dev/null 2>&1 || true
    fi
    # The last user of a daemon the users started stops it; one started by hand stays up.
    "$PLATFORM" release $$ >/dev/null 2>&1 || true
    rm -rf "$WORK"
  else
    echo "$WORK" >"$KEPT"
    echo "Kept for inspection: the deployment (project $PROJECT, files in $COMPOSE_DIR) and the daemon it runs on."
    echo "  Its logs:  DOCKER_HOST=$DOCKER_HOST docker-compose -p $PROJECT --project-directory $COMPOSE_DIR -f $COMPOSE_DIR/docker-compose.v1.yaml logs users"
    echo "  Take down: ./shop deploy-test --down   (the next ./shop deploy-test takes it down first)"
  fi
  if [ $status -ne 0 ]; then
    echo "DEPLOY TEST FAILED in phase $CURRENT after $(elapsed "$T0" | tr -d ' '); passed: ${PASSED[*]:-none}" >&2
  fi
}
trap cleanup EXIT

phase platform "private dockerd, registry, base images"
"$PLATFORM" acquire $$
done_phase

# What an earlier run left of its deployment: one that was killed (no trap) or ran with --keep. Its volumes hold
# other passwords.
if [ -f "$KEPT" ]; then
  kept=$(cat "$KEPT")
  echo "Taking down the deployment an earlier --keep run left ($kept)"
  case "$kept" in /tmp/shop-deploy-test.??????) rm -rf "$kept" ;; esac
  rm -f "$KEPT"
fi
"$DOCKER" ps -aq --filter "label=com.docker.compose.project=$PROJECT" | xargs -r "$DOCKER" rm -f >/dev/null
"$DOCKER" volume ls -q --filter "label=com.docker.compose.project=$PROJECT" | xargs -r "$DOCKER" volume rm >/dev/null
if [ $DOWN -eq 1 ]; then
  trap - EXIT
  rm -rf "$WORK"
  "$PLATFORM" release $$ >/dev/null 2>&1
  echo "No deployment of the deploy test is left; the daemon is stopped if a deploy test started it and nobody else uses it."
  exit 0
fi

if [ $COLD -eq 1 ]; then
  # A first run on a machine where the platform is set up: this deployment's images are gone from the
  # daemon, the services are compiled again in Release, the AppHost is rebuilt and the web image is built
  # without Docker's cache (npm ci, vite). Kept: the platform's base images, the NuGet package cache and
  # the SDK's base-layer cache (~/.cache/dotnet/Containers), which other builds on the machine share.
  echo "Cold run: removing this deployment's images and the services' Release builds"
  "$DOCKER" images -q --filter "reference=$IMAGE_REGISTRY/*" | xargs -r "$DOCKER" rmi -f >/dev/null
  for project in "${SERVICE_PROJECTS[@]}"; do rm -rf "$ROOT/$project/bin/Release" "$ROOT/$project/obj/Release"; done
fi

phase publish "./shop publish compose --Shop:Publish:BaseImages=local"
# Build the AppHost once; the three publish runs below then skip MSBuild's up-to-date check. Only the
# AppHost: publishing reads the services' project files, not their Debug builds (the images phase builds
# them in Release), so checking those four projects here cost ~30 s on a busy machine for nothing.
# Shop.Publishing, the publishers themselves, is built first: the AppHost compiles against it.
{ dotnet build Shop.Publishing -nologo -clp:ErrorsOnly -v:q "${FRESH_BUILD[@]}" &&
  dotnet build Shop.AppHost -nologo -clp:ErrorsOnly -v:q -p:BuildProjectReferences=false "${FRESH_BUILD[@]}"; } \
  >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
export SHOP_NO_BUILD=1
"$ROOT/shop" publish compose "$COMPOSE_DIR" "${PUBLISH_ARGS[@]}" >"$WORK/publish.log" 2>&1 || { cat "$WORK/publish.log"; exit 1; }
# Debian's docker-compose 1.29 predates the top-level 'name:' key (Compose Specification); users keep
# it, the test drops it and passes -p instead.
sed '/^name:/d' "$COMPOSE_DIR/docker-compose.yaml" >"$COMPOSE_DIR/docker-compose.v1.yaml"
# Test deployment only: the webhook receiver is this host on the compose network's private gateway
# address, over plain HTTP on port 80, which Orders refuses outside Development (Webhooks:BlockPrivateNetworks
# and RequireHttps, its SSRF guard); the port rule (80/443) stays on.
cat >"$COMPOSE_DIR/deploy-test.override.yaml" <<'EOF'
version: "3.8"
services:
  orders:
    environment:
      Webhooks__BlockPrivateNetworks: "false"
      Webhooks__RequireHttps: "false"
EOF
compose config -q
done_phase

phase images "./shop images (SDK container build, without ReadyToRun), docker load; the web image alongside"
# The daemon builds the web image (npm ci, vite) while the SDK builds the .NET images: the download and
# the two compilers overlap instead of taking turns.
WEB_START=$(date +%s.%N)
(
  status=0
  compose build "${FRESH_IMAGE[@]}" web >"$WORK/web-build.log" 2>&1 || status=$?
  elapsed "$WEB_START" >"$WORK/web-build.time"
  exit $status
) &
WEB_BUILD=$!
# Without ReadyToRun: precompiling every dependency of four services takes ~12 minutes on a busy
# 2-core machine (measured, docs/deploy.md); the images are otherwise exactly what users build.
"$ROOT/shop" images "$WORK/images" "${PUBLISH_ARGS[@]}" --Shop:Publish:ReadyToRun=false >"$WORK/images.log" 2>&1 || { tail -40 "$WORK/images.log"; exit 1; }
echo "    built by the SDK in $(elapsed "$PHASE_START" | tr -d ' ')"
for archive in "$WORK"/images/*.tar.gz; do
  # The previous run's image goes first; loading over it would leave it behind untagged.
  "$DOCKER" rmi "$IMAGE_REGISTRY/$(basename "$archive" .tar.gz):$IMAGE_TAG" >/dev/null 2>&1 || true
  "$DOCKER" load -q -i "$archive"
done
done_phase

phase web-image "Shop.Web/Dockerfile on the local node and nginx images (started with the images)"
web_status=0
wait "$WEB_BUILD" || web_status=$?
WEB_BUILD=""
[ $web_status -eq 0 ] || { tail -40 "$WORK/web-build.log"; exit 1; }
echo "    built in $(tr -d ' ' <"$WORK/web-build.time") from the start of the images phase;" \
  "$(grep -c 'Using cache' "$WORK/web-build.log") steps from Docker's cache, $(grep -c 'Running in' "$WORK/web-build.log") run"
done_phase

phase up "docker-compose up -d, polling until every service is healthy"
# wait_healthy SECONDS [PID]: until every container of the project is healthy (and process PID, a
# `compose up` still creating them, has finished). Prints each container as it turns healthy, with the
# time since the phase began: the start order's chain.
wait_healthy() {
  local deadline=$(( $(date +%s) + $1 )) creator="${2:-}" states name state
  local -A seen=()
  while :; do
    # The docker CLI, not docker-compose: a Python start-up every poll costs a busy machine ~1 s of CPU.
    states=$("$DOCKER" ps -aq --filter "label=com.docker.compose.project=$PROJECT" \
      | xargs -r "$DOCKER" inspect -f '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{if eq .State.Status "exited"}} {{.State.ExitCode}}{{end}}{{end}}' 2>/dev/null) \
      || states="/? not-inspected"  # a container went away between the two calls: look again
    while read -r name state; do
      if [ "$state" = healthy ] && [ -z "${seen[$name]:-}" ]; then
        seen[$name]=1
        printf '    [%s] %s healthy\n' "$(elapsed "$PHASE_START")" "${name#/}"
      fi
    done <<<"$states"
    if [ -n "$creator" ] && ! kill -0 "$creator" 2>/dev/null; then
      wait "$creator" || { echo "docker-compose up failed:" >&2; cat "$WORK/up.log" >&2; return 1; }
      creator=""
    fi
    # Every service healthy; the one-shot migration steps (no health check) exited with 0.
    if grep -q ' exited [1-9][0-9]*$' <<<"$states"; then echo "$states" >&2; return 1; fi
    if [ -z "$creator" ] && [ -n "$states" ] && ! grep -qv -e ' healthy$' -e ' exited 0$' <<<"$states"; then return 0; fi
    if [ "$(date +%s)" -gt "$deadline" ]; then echo "$states" >&2; return 1; fi
    sleep 1
  done
}
# up -d itself waits for each dependency's health before starting the next service; polling alongside
# shows the start order's chain as it happens.
compose up -d --no-build >"$WORK/up.log" 2>&1 &
UP=$!
wait_healthy 300 "$UP"
UP=""
curl -fsS -m 5 "http://127.0.0.1:$HTTP_PORT/health" >/dev/null
# What an operator reads in `docker-compose logs` after a clean start: no service warns that its Data Protection
# keys are kept in memory or unencrypted (Orders keeps its key ring in its database, encrypted; the others protect
# nothing, and say so by their configuration). Each warning with its message line, by service.
dp_warnings=$("$DOCKER" ps -aq --filter "label=com.docker.compose.project=$PROJECT" | while read -r id; do
  "$DOCKER" logs "$id" 2>&1 | grep -A1 -E '^(warn|fail): Microsoft\.AspNetCore\.DataProtection' \
    | sed "s/^/    $("$DOCKER" inspect -f '{{index .Config.Labels "com.docker.compose.service"}}' "$id"): /" || true
done)
[ -z "$dp_warnings" ] || { echo "Data Protection warnings at start:"; echo "$dp_warnings"; } >&2
[ -z "$dp_warnings" ] || exit 1
done_phase

phase journey "through the gateway: register, sign in, item, order, webhook, cancel, SPA"
NETWORK_GATEWAY=$("$DOCKER" network inspect "${PROJECT}_msnet" -f '{{(index .IPAM.Config 0).Gateway}}')
python3 "$ROOT/scripts/deploy-test/journey.py" --base "http://127.0.0.1:$HTTP_PORT" --env "$COMPOSE_DIR/.env" \
  --hook-bind "$NETWORK_GATEWAY" --hook-port "$HOOK_PORT" | tee "$WORK/journey.log"
SKU=$(sed -n 's/^JOURNEY_RESULT sku=\([^ ]*\) .*/\1/p' "$WORK/journey.log")
done_phase

phase db-restart "restart inventory-db: the data survives (volume), Inventory recovers"
compose restart inventory-db >/dev/null 2>&1
python3 "$ROOT/scripts/deploy-test/journey.py" --base "http://127.0.0.1:$HTTP_PORT" --env "$COMPOSE_DIR/.env" \
  --hook-bind "$NETWORK_GATEWAY" --hook-port "$HOOK_PORT" --after-restart "$SKU"
done_phase

phase rotation "docs/deploy.md's compose key rotations: the JWT signing key, Orders' and Inventory's service keys (.env, up -d)"
# The operator's steps as written: .env edited, `up -d`. Checked through the gateway after each: the token
# signed before still works, a new customer signs in and orders (Orders calls Users and Inventory with its
# key), and Inventory checks that customer's token with Users (its key: the stamp is first deleted from Redis);
# against the doc, which containers `up -d` recreated and in what order; and after a key's step 2, that Users
# refuses the retired key.
ENV_FILE="$COMPOSE_DIR/.env"
# Values are letters, digits and base64's +/=; publish writes them bare, and a quoted one is read as one.
env_get() { sed -n "s/^$1=//p" "$ENV_FILE" | sed "s/^'\(.*\)'\$/\1/"; }
env_set() {
  grep -q "^$1=" "$ENV_FILE" || { echo "$ENV_FILE has no $1=" >&2; return 1; }
  local edited
  edited=$(K="$1" V="$2" awk 'index($0, ENVIRON["K"] "=") == 1 { print ENVIRON["K"] "=" ENVIRON["V"]; next } { print }' "$ENV_FILE")
  printf '%s\n' "$edited" >"$ENV_FILE"
}
# service container-id, one line per container of the project (the exited migration steps too).
containers() {
  "$DOCKER" ps -aq --filter "label=com.docker.compose.project=$PROJECT" \
    | xargs -r "$DOCKER" inspect -f '{{index .Config.Labels "com.docker.compose.service"}} {{.Id}}' | sort
}
# up_recreates "SERVICES…": `up -d` as the doc has the operator run it; the services whose container is new
# must be exactly these (sorted), and the deployment healthy again. The daemon's container events meanwhile
# (created, turned healthy; time, action, service) are kept in $WORK/up-events.log for the order's check.
up_recreates() {
  local before after recreated events status=0
  before=$(containers)
  "$DOCKER" events --since "$(date +%s)" --filter "label=com.docker.compose.project=$PROJECT" --filter type=container \
    --filter event=create --filter event=health_status \
    --format '{{.TimeNano}} {{.Action}} {{index .Actor.Attributes "com.docker.compose.service"}}' >"$WORK/up-events.log" &
  events=$!
  compose up -d --no-build >"$WORK/up-rotation.log" 2>&1 || status=$?
  kill "$events" 2>/dev/null || true
  [ $status -eq 0 ] || { cat "$WORK/up-rotation.log" >&2; return 1; }
  after=$(containers)
  recreated=$(awk 'NR == FNR { old[$2] = 1; next } !old[$2] { print $1 }' <(echo "$before") <(echo "$after") | sort -u | xargs)
  [ "$recreated" = "$1" ] || { echo "docker-compose up -d recreated '$recreated'; docs/deploy.md says '$1'" >&2; return 1; }
  wait_healthy 120 >/dev/null
  echo "    up -d recreated $recreated; healthy at $(elapsed "$PHASE_START" | tr -d ' ')"
}
# The container of a compose service (one each here).
container_of() { "$DOCKER" ps -q --filter "label=com.docker.compose.project=$PROJECT" --filter "label=com.docker.compose.service=$1"; }
rotation_check() {
  python3 "$ROOT/scripts/deploy-test/journey.py" --base "http://127.0.0.1:$HTTP_PORT" --env "$ENV_FILE" \
    --hook-bind "$NETWORK_GATEWAY" --rotation "$SKU" --token-file "$WORK/rotation-token" \
    --redis-cli "$DOCKER exec -e REDISCLI_AUTH $(container_of redis) redis-cli" "$@"
}
# service_key_step1 CALLER "RECREATED" "CALLED…": step 1 of a service key's rotation (docs/deploy.md): the services CALLER
# calls accept its current key and a new one, which it presents from now on. `up -d` must recreate exactly RECREATED
# (sorted), and CALLER's new container only once each CALLED service's new one passed a health check (depends_on:
# service_healthy), so no new CALLER ever presents its key to a service that refuses it. (A container's health log keeps
# only its last 5 checks, too few on a busy machine: the daemon's events during `up -d` say it.)
declare -A RETIRED_KEY=()
service_key_step1() {
  local key="${1^^}_SERVICE_KEY"
  RETIRED_KEY[$1]=$(env_get "$key")
  env_set "${key}_ACCEPTED" "${RETIRED_KEY[$1]}"
  env_set "$key" "$(openssl rand -hex 24)"
  up_recreates "$2"
  awk -v caller="$1" -v called="$3" '
    $2 == "health_status:" && $3 == "healthy" && !healthy[$4] { healthy[$4] = $1 }
    $2 == "create" && $3 == caller && !created { created = $1; for (i = split(called, c, " "); i > 0; i--) when[c[i]] = healthy[c[i]] }
    END {
      if (!created) { printf "no %s container was created\n", caller > "/dev/stderr"; exit 1 }
      line = ""
      for (i = split(called, c, " "); i > 0; i--) {
        if (!when[c[i]]) { printf "the new %s container was created before %s was healthy\n", caller, c[i] > "/dev/stderr"; exit 1 }
        line = sprintf("%s healthy %.1fs%s%s", c[i], (created - when[c[i]]) / 1e9, line == "" ? "" : ", ", line)
      }
      printf "    %s before the new %s container was created\n", line, caller
    }' "$WORK/up-events.log" || { cat "$WORK/up-events.log" >&2; exit 1; }
}
# service_key_step2 CALLER: step 2, the called services accept only CALLER's new key (.env; the `up -d` follows).
service_key_step2() { env_set "${1^^}_SERVICE_KEY_ACCEPTED" ""; }
# internal_users_status CALLER KEY: the HTTP status Users' internal account API answers KEY with, asked from CALLER's
# container (the gateway does not route /internal/; the key goes through the environment, not a command line).
# retired_key_refused CALLER: after step 2 Users refuses (401) the key CALLER presented before step 1 and accepts its
# current one.
internal_users_status() {
  KEY="$2" "$DOCKER" exec -e KEY "$(container_of "$1")" sh -c \
    'wget -S -q -O /dev/null --header "X-Service-Key: $KEY" http://users:8080/internal/users/1 2>&1; true' \
    | grep -o 'HTTP/1\.[01] [0-9]*' | tail -1 | cut -d' ' -f2 || true
}
retired_key_refused() {
  local retired current
  retired=$(internal_users_status "$1" "${RETIRED_KEY[$1]}")
  current=$(internal_users_status "$1" "$(env_get "${1^^}_SERVICE_KEY")")
  [ "$retired" = 401 ] || { echo "Users still accepts the retired service key of $1 (answered '$retired', not 401) after step 2" >&2; exit 1; }
  [ "$current" = 200 ] || { echo "Users does not accept the current service key of $1 (answered '$current', not 200) after step 2" >&2; exit 1; }
  echo "    Users refuses the retired key of $1 (401) and takes its current one (200)"
}
# What shoppers meet meanwhile: a signed-in customer reads the item and their orders every 100 ms through the gateway, in
# the background for the whole phase; after each step, what they were answered since the previous one. Only a wrong
# answer fails the phase: how long a refusal lasts is the shared machine's to decide.
PROBE_LOG="$WORK/probe.log"
python3 "$ROOT/scripts/deploy-test/availability_probe.py" run --base "http://127.0.0.1:$HTTP_PORT" --sku "$SKU" \
  --log "$PROBE_LOG" >"$WORK/probe.out" 2>&1 9>&- &  # not holding the lock: it must never outlive this run with it
PROBE=$!
probe_deadline=$(( $(date +%s) + 60 ))
until [ -s "$PROBE_LOG" ]; do
  kill -0 "$PROBE" 2>/dev/null && [ "$(date +%s)" -lt "$probe_deadline" ] \
    || { echo "the availability probe sent nothing:" >&2; cat "$WORK/probe.out" >&2; exit 1; }
  sleep 0.2
done
PROBE_START=$(date +%s.%N); STEP_START=$PROBE_START
# shoppers LABEL [SINCE]: the probe's answers since the step began (or SINCE); the next step begins now.
shoppers() {
  python3 "$ROOT/scripts/deploy-test/availability_probe.py" report --log "$PROBE_LOG" --since "${2:-$STEP_START}" --label "$1" \
    || { cat "$WORK/probe.out" >&2; exit 1; }
  STEP_START=$(date +%s.%N)
}
rotation_check
shoppers "before the rotation"
# JWT, step 1: the current key becomes the previous one, a new one signs.
env_set JWT_PREVIOUS_SIGNING_KEY "$(env_get JWT_SIGNING_KEY)"
new_jwt_key() { openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -outform DER | base64 -w0; }
env_set JWT_SIGNING_KEY "$(new_jwt_key)"
up_recreates "users"
rotation_check --new-key
shoppers "JWT step 1"
# Orders' key, step 1: Users and Inventory accept the current key and the new one; Orders presents the new one.
service_key_step1 orders "inventory orders users" "users inventory"
# A new customer's token, signed with the current key: the key the urgent rotation below treats as leaked.
rotation_check --new-key --keep-new-token "$WORK/leaked-token"
shoppers "Orders' key step 1"
# Inventory's key, both steps: Users accepts the current key and the new one, Inventory presents the new one; then
# Users accepts the new one only. Each rotation check makes Inventory ask Users for a stamp with its key.
service_key_step1 inventory "inventory users" "users"
rotation_check --new-key
shoppers "Inventory's key step 1"
service_key_step2 inventory
up_recreates "users"
retired_key_refused inventory
rotation_check --new-key
shoppers "Inventory's key step 2"
# Orders' step 2, and the JWT key rotated urgently (the current key leaked; one recreation of users serves both): a new
# key, the previous one emptied, `up -d`; then the services that check tokens restarted, so they drop both removed keys
# at once rather than at their next fetch of Users' keys (Jwt:SigningKeysRefreshInterval). The planned JWT step 2 (the
# previous key emptied) is part of it: Users refuses the token signed with the first key.
env_set JWT_SIGNING_KEY "$(new_jwt_key)"
env_set JWT_PREVIOUS_SIGNING_KEY ""
service_key_step2 orders
up_recreates "inventory users"
retired_key_refused orders
RESTART_START=$(date +%s.%N)
compose restart orders inventory gateway >"$WORK/restart-rotation.log" 2>&1 || { cat "$WORK/restart-rotation.log" >&2; exit 1; }
wait_healthy 120 >/dev/null
echo "    restart orders inventory gateway: healthy again after $(elapsed "$RESTART_START" | tr -d ' ')"
rotation_check --keys-removed "$WORK/leaked-token"
shoppers "Orders' key step 2 with the urgent JWT rotation"
shoppers "the whole phase" "$PROBE_START"
kill "$PROBE"; wait "$PROBE" || true; PROBE=""
done_phase

if [ $TLS -eq 1 ]; then
  phase tls "republish with a self-signed certificate: HTTPS, redirect, HSTS, journey over HTTPS"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=shop.test \
    -addext "subjectAltName=DNS:shop.test,IP:127.0.0.1" -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
  # The gateway runs as uid 1654 and must read the key; nobody else may.
  chown 1654:1654 "$WORK/tls.key"; chmod 600 "$WORK/tls.key"
  # Same output folder: publish keeps .env's values (the volumes' passwords); only the gateway changes.
  "$ROOT/shop" publish compose "$COMPOSE_DIR" "${PUBLISH_ARGS[@]}" \
    --Shop:Publish:TlsCertificate="$WORK/tls.crt" --Shop:Publish:TlsKey="$WORK/tls.key" >"$WORK/publish-tls.log" 2>&1 \
    || { cat "$WORK/publish-tls.log"; exit 1; }
  echo "    published in $(elapsed "$PHASE_START" | tr -d ' ')"
  sed '/^name:/d' "$COMPOSE_DIR/docker-compose.yaml" >"$COMPOSE_DIR/docker-compose.v1.yaml"
  compose up -d --no-build >/dev/null 2>&1
  wait_healthy 120 >/dev/null
  echo "    gateway recreated and healthy at $(elapsed "$PHASE_START" | tr -d ' ')"
  RESOLVE=(--resolve "shop.test:$HTTPS_PORT:127.0.0.1" --resolve "shop.test:$HTTP_PORT:127.0.0.1")
  redirect=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "${RESOLVE[@]}" "http://shop.test:$HTTP_PORT/inventory/")
  [ "$redirect" = "307 https://shop.test:$HTTPS_PORT/inventory/" ] || { echo "HTTP is not redirected: $redirect" >&2; exit 1; }
  hsts=$(curl -sS --cacert "$WORK/tls.crt" -D - -o /dev/null "${RESOLVE[@]}" "https://shop.test:$HTTPS_PORT/" | tr -d '\r' | grep -i '^strict-transport-security:' || true)
  [ "$hsts" = "strict-transport-security: max-age=31536000" ] || { echo "No HSTS header: '$hsts'" >&2; exit 1; }
  echo "    http://…:$HTTP_PORT → 307 https://shop.test:$HTTPS_PORT/…; $hsts; certificate verified against the self-signed CA"
  python3 "$ROOT/scripts/deploy-test/journey.py" --base "https://127.0.0.1:$HTTPS_PORT" --cafile "$WORK/tls.crt" \
    --env "$COMPOSE_DIR/.env" --hook-bind "$NETWORK_GATEWAY" --hook-port "$HOOK_PORT" | grep -v '^JOURNEY_RESULT'
  done_phase
fi

phase client-address "the gateway counts sign-ins per connection: a client's own X-Forwarded-For changes nothing"
# Last, because it spends this address's sign-in budget (10 a minute). Each attempt claims another address;
# a gateway that believed the header would give each its own bucket and never answer 429.
# The budget refills one sign-in every 6 s, so on a loaded machine (a refused sign-in costs Users a password
# check: seconds at a load of 30) 12 attempts could take long enough to be refilled twice and never be throttled.
# Up to 40 are sent, stopping at the first 429: a refill cannot keep up with that many.
# After the TLS phase plain HTTP is redirected, so the attempts go where the gateway serves them.
LOGIN_URL="http://127.0.0.1:$HTTP_PORT/users/login"; CURL_TLS=()
if [ $TLS -eq 1 ]; then LOGIN_URL="https://127.0.0.1:$HTTPS_PORT/users/login"; CURL_TLS=(--cacert "$WORK/tls.crt"); fi
statuses=""
for i in $(seq 1 40); do
  code=$(curl -sS -m 10 "${CURL_TLS[@]}" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -H "X-Forwarded-For: 203.0.113.$i" \
    -d "{\"email\":\"nobody-$i@example.com\",\"password\":\"wrong-password\"}" "$LOGIN_URL")
  statuses="$statuses $code"
  [ "$code" = 429 ] && break
done
case "$statuses" in *429*) ;; *) echo "40 sign-ins claiming 40 addresses were never throttled:$statuses" >&2; exit 1 ;; esac
echo "    answers:$statuses"
done_phase

phase down "docker-compose down -v"
compose down -v --remove-orphans >/dev/null 2>&1
[ -z "$("$DOCKER" volume ls -q --filter "name=${PROJECT}_")" ] || { echo "volumes left behind" >&2; exit 1; }
done_phase
rm -rf "$WORK"
trap - EXIT
# Untagged images are the web build's cache (its build stage: npm ci, vite) and images replaced by a
# change; those a day old go, so the cache of the current sources stays for the next run.
"$DOCKER" image prune -f --filter until=24h >/dev/null
"$PLATFORM" release $$ >/dev/null 2>&1
echo "DEPLOY TEST PASSED in $(elapsed "$T0" | tr -d ' '): ${PASSED[*]}$([ $COLD -eq 1 ] && echo ' (cold)') (load average at the end: $(load))"
