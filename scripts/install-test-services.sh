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
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql > /dev/null
