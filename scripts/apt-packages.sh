# Sourced by ./shop and the container platform's setup (they define `log` and `as_root`): installs Debian packages,
# waiting for another apt that holds its locks (apt-daily or unattended-upgrades on a freshly booted VM, a second
# setup running) instead of failing on them. apt-get install waits for the dpkg lock itself (DPkg::Lock::Timeout);
# apt-get update does not wait for the package lists' lock, so it is tried again while that is the only error.
APT_LOCK_WAIT_SECONDS=${APT_LOCK_WAIT_SECONDS:-600}
apt_updated=0

apt_update() {
  local deadline=$(( $(date +%s) + APT_LOCK_WAIT_SECONDS )) waiting=0 out
  until out=$(as_root apt-get update -qq 2>&1); do
    if ! grep -q "Could not get lock" <<<"$out" || [ "$(date +%s)" -ge "$deadline" ]; then
      printf '%s\n' "$out" >&2
      return 1
    fi
    if [ $waiting -eq 0 ]; then
      log "Waiting up to ${APT_LOCK_WAIT_SECONDS}s for another apt to finish ($(grep -om1 'held by process.*' <<<"$out" || echo 'its lock'))"
      waiting=1
    fi
    sleep 2
  done
  [ -z "$out" ] || printf '%s\n' "$out" >&2
}

# apt_install PACKAGE...: installs those not installed yet (the package lists updated once per run).
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "Installing ${missing[*]} (apt)"
  if [ $apt_updated -eq 0 ]; then apt_update; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout="$APT_LOCK_WAIT_SECONDS" "${missing[@]}" >/dev/null
}
