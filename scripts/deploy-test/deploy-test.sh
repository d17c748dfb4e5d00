#!/usr/bin/env bash
# ./shop deploy-test: the compose deployment started for real on the private container platform
# (scripts/container-platform/platform.sh) and driven end to end through its gateway.
#
# Phases: platform, publish, images, web image, up + health, journey, database restart, TLS, down.
# Each prints its time; the last line says what passed. Exit code 0 only if every phase passed.
# Options: --keep (on failure, leave the deployment and the daemon for inspection), --no-tls (skip the HTTPS phase).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
PLATFORM="$ROOT/scripts/container-platform/platform.sh"

KEEP=0; TLS=1
for arg in "$@"; do
  case "$arg" in --keep) KEEP=1;; --no-tls) TLS=0;; *) echo "usage: ./shop deploy-test [--keep] [--no-tls]" >&2; exit 2;; esac
done

PROJECT=shop-deploy-test
# Ports nobody else's stack uses (./shop run's gateway is 8080).
HTTP_PORT="${SHOP_DEPLOY_TEST_PORT:-18080}"
HTTPS_PORT="${SHOP_DEPLOY_TEST_HTTPS_PORT:-18443}"
WORK="$(mktemp -d /tmp/shop-deploy-test.XXXXXX)"
COMPOSE_DIR="$WORK/compose"
# The local base images (the only setting that selects them) and a tag of our own.
PUBLISH_ARGS=(--Shop:Publish:BaseImages=local --Shop:Publish:Registry=shop-deploy-test --Shop:Publish:Tag=test
  --Shop:GatewayPort="$HTTP_PORT" --Shop:Publish:HttpsPort="$HTTPS_PORT")

# One deployment test at a time on this machine (same project name, ports and daemon); the clock starts
# once this one has the machine.
exec 9>"/tmp/shop-deploy-test.lock"
if ! flock -n 9; then
  echo "Waiting for another deploy test on this machine to finish…"
  flock -w 1800 9 || { echo "another deploy test held the lock for 30 minutes" >&2; exit 1; }
fi

T0=$(date +%s.%N)
PHASE_START=$T0
PASSED=()
CURRENT=""
# phase LABEL DESCRIPTION: the label names the phase in the closing line.
phase() { CURRENT="$1"; PHASE_START=$(date +%s.%N); printf '\033[1;34m==>\033[0m [%s] %s: %s\n' "$(elapsed "$T0")" "$1" "$2"; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%6.1fs", b - a }'; }
done_phase() { printf '    done in %s\n' "$(elapsed "$PHASE_START")"; PASSED+=("$CURRENT"); }

# This script's daemon only: DOCKER_HOST is set for this process and its children, never globally.
eval "export $("$PLATFORM" env)"
DOCKER=/usr/bin/docker
compose() { docker-compose -p "$PROJECT" --project-directory "$COMPOSE_DIR" -f "$COMPOSE_DIR/docker-compose.v1.yaml" -f "$COMPOSE_DIR/deploy-test.override.yaml" "$@"; }

cleanup() {
  local status=$?
  if [ $KEEP -eq 0 ]; then
    if [ -f "$COMPOSE_DIR/docker-compose.v1.yaml" ]; then
      [ $status -ne 0 ] && { echo "--- last logs ---"; compose logs --tail=30 2>/dev/null | tail -120; } || true
      compose down -v --remove-orphans >/dev/null 2>&1 || true
    fi
    # The last user of a daemon the users started stops it; one started by hand stays up.
    "$PLATFORM" release $$ >/dev/null 2>&1 || true
    rm -rf "$WORK"
  else
    echo "Kept: $COMPOSE_DIR (project $PROJECT, DOCKER_HOST=$DOCKER_HOST)"
  fi
  if [ $status -ne 0 ]; then
    echo "DEPLOY TEST FAILED in phase $CURRENT after $(elapsed "$T0" | tr -d ' '); passed: ${PASSED[*]:-none}" >&2
  fi
}
trap cleanup EXIT

phase platform "private dockerd, registry, base images"
"$PLATFORM" acquire $$
done_phase

# A run that was killed (no trap) may have left its deployment; its volumes hold other passwords.
"$DOCKER" ps -aq --filter "label=com.docker.compose.project=$PROJECT" | xargs -r "$DOCKER" rm -f >/dev/null
"$DOCKER" volume ls -q --filter "label=com.docker.compose.project=$PROJECT" | xargs -r "$DOCKER" volume rm >/dev/null

phase publish "./shop publish compose --Shop:Publish:BaseImages=local"
# Build the AppHost once; the three publish runs below then skip MSBuild's up-to-date check.
dotnet build Shop.AppHost -nologo -clp:ErrorsOnly -v:q >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
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

phase images "./shop images (SDK container build, without ReadyToRun), docker load"
# Without ReadyToRun: precompiling every dependency of four services takes ~12 minutes on a busy
# 2-core machine (measured, docs/deploy.md); the images are otherwise exactly what users build.
"$ROOT/shop" images "$WORK/images" "${PUBLISH_ARGS[@]}" --Shop:Publish:ReadyToRun=false >"$WORK/images.log" 2>&1 || { tail -40 "$WORK/images.log"; exit 1; }
for archive in "$WORK"/images/*.tar.gz; do
  loaded=$("$DOCKER" load -q -i "$archive" 2>&1) || { echo "$loaded" >&2; exit 1; }
  grep -v "renaming the old one" <<<"$loaded" || true  # the previous run's image, pruned at the end
done
done_phase

phase web-image "Shop.Web/Dockerfile on the local node and nginx images"
compose build web >"$WORK/web-build.log" 2>&1 || { tail -40 "$WORK/web-build.log"; exit 1; }
done_phase

phase up "docker-compose up -d, polling until every service is healthy"
compose up -d --no-build >/dev/null 2>&1 || compose up -d --no-build
wait_healthy() {
  local deadline=$(( $(date +%s) + ${1:-240} )) states
  while :; do
    states=$(compose ps -q | xargs "$DOCKER" inspect -f '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}{{.State.Status}}{{end}}')
    if ! grep -qv ' healthy$' <<<"$states"; then echo "$states" | sed 's/^\//    /'; return 0; fi
    if [ "$(date +%s)" -gt "$deadline" ]; then echo "$states" >&2; return 1; fi
    sleep 2
  done
}
wait_healthy 300
curl -fsS -m 5 "http://127.0.0.1:$HTTP_PORT/health" >/dev/null
done_phase

phase journey "through the gateway: register, sign in, item, order, webhook, cancel, SPA"
NETWORK_GATEWAY=$("$DOCKER" network inspect "${PROJECT}_msnet" -f '{{(index .IPAM.Config 0).Gateway}}')
python3 "$ROOT/scripts/deploy-test/journey.py" --base "http://127.0.0.1:$HTTP_PORT" --env "$COMPOSE_DIR/.env" \
  --hook-bind "$NETWORK_GATEWAY" | tee "$WORK/journey.log"
SKU=$(sed -n 's/^JOURNEY_RESULT sku=\([^ ]*\) .*/\1/p' "$WORK/journey.log")
done_phase

phase db-restart "restart inventory-db: the data survives (volume), Inventory recovers"
compose restart inventory-db >/dev/null 2>&1
python3 "$ROOT/scripts/deploy-test/journey.py" --base "http://127.0.0.1:$HTTP_PORT" --env "$COMPOSE_DIR/.env" \
  --hook-bind "$NETWORK_GATEWAY" --after-restart "$SKU"
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
  sed '/^name:/d' "$COMPOSE_DIR/docker-compose.yaml" >"$COMPOSE_DIR/docker-compose.v1.yaml"
  compose up -d --no-build >/dev/null 2>&1
  wait_healthy 120 >/dev/null
  RESOLVE=(--resolve "shop.test:$HTTPS_PORT:127.0.0.1" --resolve "shop.test:$HTTP_PORT:127.0.0.1")
  redirect=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "${RESOLVE[@]}" "http://shop.test:$HTTP_PORT/inventory/")
  [ "$redirect" = "307 https://shop.test:$HTTPS_PORT/inventory/" ] || { echo "HTTP is not redirected: $redirect" >&2; exit 1; }
  hsts=$(curl -sS --cacert "$WORK/tls.crt" -D - -o /dev/null "${RESOLVE[@]}" "https://shop.test:$HTTPS_PORT/" | tr -d '\r' | grep -i '^strict-transport-security:' || true)
  [ "$hsts" = "strict-transport-security: max-age=31536000" ] || { echo "No HSTS header: '$hsts'" >&2; exit 1; }
  echo "    http://…:$HTTP_PORT → 307 https://shop.test:$HTTPS_PORT/…; $hsts; certificate verified against the self-signed CA"
  python3 "$ROOT/scripts/deploy-test/journey.py" --base "https://127.0.0.1:$HTTPS_PORT" --cafile "$WORK/tls.crt" \
    --env "$COMPOSE_DIR/.env" --hook-bind "$NETWORK_GATEWAY" | grep -v '^JOURNEY_RESULT'
  done_phase
fi

phase down "docker-compose down -v"
compose down -v --remove-orphans >/dev/null 2>&1
[ -z "$("$DOCKER" volume ls -q --filter "name=${PROJECT}_")" ] || { echo "volumes left behind" >&2; exit 1; }
done_phase
rm -rf "$WORK"
trap - EXIT
# Loaded images replace the previous run's, which stay behind untagged.
"$DOCKER" image prune -f >/dev/null
"$PLATFORM" release $$ >/dev/null 2>&1
echo "DEPLOY TEST PASSED in $(elapsed "$T0" | tr -d ' '): ${PASSED[*]}"
