#!/usr/bin/env bash
# Debian packages the tests need beyond Python, installed when missing (as root), never started as system services:
#   postgresql         tracker store, journal and bridge state of the production profile
#   redis-server       Rasa's lock store of the production profile
#   haproxy            the load balancer in front of the Rasa, action-server and bridge replicas
#   chromium, chromium-driver   the staff console's browser tests
set -euo pipefail
missing=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" > /dev/null || missing+=(postgresql)
command -v redis-server > /dev/null || missing+=(redis-server)
command -v haproxy > /dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
command -v chromium > /dev/null || missing+=(chromium)
command -v chromedriver > /dev/null || missing+=(chromium-driver)
if [ ${#missing[@]} = 0 ]; then
    echo "[setup] PostgreSQL, Redis, HAProxy and Chromium are installed"; exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then
    echo "[setup] ERROR: the tests need these Debian packages: ${missing[*]} (install them as root)." >&2
    exit 1
fi
echo "[setup] installing Debian packages for the tests: ${missing[*]}…"
export DEBIAN_FRONTEND=noninteractive
# The tests start their own throw-away servers; keep the packages from starting system ones (no init here).
policy=/usr/sbin/policy-rc.d
own_policy=false
if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; own_policy=true; fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null || true
if $own_policy; then rm -f "$policy"; fi
still=()
compgen -G "/usr/lib/postgresql/*/bin/postgres" > /dev/null || still+=(postgresql)
command -v redis-server > /dev/null || still+=(redis-server)
command -v haproxy > /dev/null || [ -x /usr/sbin/haproxy ] || still+=(haproxy)
command -v chromium > /dev/null || still+=(chromium)
command -v chromedriver > /dev/null || still+=(chromium-driver)
[ ${#still[@]} = 0 ] || { echo "[setup] ERROR: installing ${still[*]} failed." >&2; exit 1; }
