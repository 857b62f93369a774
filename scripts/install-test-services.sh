#!/usr/bin/env bash
# Debian packages the tests need beyond Python: a PostgreSQL server, to prove conversations persist in
# PostgreSQL as in a real deployment. Skipped when already installed.
set -euo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/postgres" > /dev/null; then
    echo "[setup] PostgreSQL server is installed"; exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then
    echo "[setup] ERROR: the tests need a PostgreSQL server: install Debian's 'postgresql' package (as root)." >&2
    exit 1
fi
echo "[setup] installing Debian's postgresql package for the tests…"
export DEBIAN_FRONTEND=noninteractive
# The tests start their own throw-away server; keep the package from starting a system one (no init here).
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; own_policy=true; fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql > /dev/null || true
if $own_policy; then rm -f "$policy"; fi
compgen -G "/usr/lib/postgresql/*/bin/postgres" > /dev/null \
    || { echo "[setup] ERROR: installing Debian's postgresql package failed." >&2; exit 1; }
