# Sourced by scripts/setup. apt and dpkg take a lock; on a fresh desktop an automatic update
# often holds it for minutes. Wait for it (bounded, saying so) instead of failing at once.
APT_LOCK_WAIT_SECONDS=${TABLEPAY_APT_LOCK_WAIT:-600}
APT_LOCK_POLL_SECONDS=${TABLEPAY_APT_LOCK_POLL:-10}

apt_get() {
  local waited=0 status errors
  errors=$(mktemp)
  while true; do
    status=0
    apt-get -o DPkg::Lock::Timeout="$APT_LOCK_POLL_SECONDS" "$@" 2>"$errors" || status=$?
    if [ "$status" -eq 0 ]; then
      cat "$errors" >&2; rm -f "$errors"; return 0
    fi
    # Only a held lock is worth waiting out; anything else is reported as apt said it.
    if ! grep -qiE "could not get lock|unable to acquire|is another process using it" "$errors"; then
      cat "$errors" >&2; rm -f "$errors"; return "$status"
    fi
    if [ "$waited" -ge "$APT_LOCK_WAIT_SECONDS" ]; then
      echo "setup: apt/dpkg is still locked by another program after ${waited}s; run this again when it is done" >&2
      rm -f "$errors"; return "$status"
    fi
    echo "setup: apt/dpkg is busy (another install or an automatic update); waiting (${waited}s of ${APT_LOCK_WAIT_SECONDS}s)" >&2
    sleep "$APT_LOCK_POLL_SECONDS"
    waited=$((waited + APT_LOCK_POLL_SECONDS))
  done
}

apt_updated=0
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" -eq 0 ]; then
    apt_get update -q || return $?
    apt_updated=1
  fi
  apt_get install -y -q --no-install-recommends "$@"
}
