#!/usr/bin/env bash
# System packages the tests need: Debian's Chromium for the browser tests and
# Debian's PostgreSQL server (initdb, pg_ctl) for the throwaway-database tests
# (tests/pgserver.py; the packaged cluster itself is not used).
# Installs only what is missing; says loudly when it cannot.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null 2>&1; then
  echo "WARNING: missing system packages (${need[*]}) and no root to install them;" >&2
  echo "         browser tests will be skipped and PostgreSQL tests will fail." >&2
  exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "installing system packages: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
