#!/usr/bin/env bash
# Creates the two Python environments the project runs in, idempotently:
#   .venv/rasa  Python 3.10, the Rasa server (rasa 3.6 needs Python <= 3.10)
#   .venv/app   Python 3.11, action server, knowledge tools, Telegram bridge, tests
# Each env records a hash of its lock file; an unchanged lock means no work.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

lock_hash() { sha256sum "$@" | sha256sum | cut -c1-16; }

find_python() {  # $1 = version like 3.10, $2 = env var that may name the interpreter
    local version=$1 override=${!2:-} candidate
    if [ -n "$override" ]; then
        "$override" -c "import sys; assert sys.version_info[:2] == tuple(map(int, '$version'.split('.')))" 2>/dev/null \
            || die "$2=$override is not a Python $version interpreter."
        echo "$override"; return
    fi
    for candidate in "python$version" \
        "$(command -v pyenv >/dev/null && pyenv root 2>/dev/null)"/versions/"$version".*/bin/python \
        /usr/bin/python"$version" /usr/local/bin/python"$version"; do
        if command -v "$candidate" >/dev/null 2>&1 && \
           "$candidate" -c "import sys; assert sys.version_info[:2] == tuple(map(int, '$version'.split('.')))" 2>/dev/null; then
            command -v "$candidate"; return
        fi
    done
    die "Python $version not found. Install it (e.g. 'pyenv install $version.13' or 'apt-get install python$version python$version-venv') or point $2 at its interpreter."
}

make_env() {  # $1 = env dir, $2 = python, $3 = lock file, $4... = extra install step
    local dir=$1 python=$2 lock=$3; shift 3
    local want; want=$(lock_hash "$lock")
    if [ -f "$dir/.installed" ] && [ "$(cat "$dir/.installed")" = "$want" ]; then
        say "$dir is up to date"; return
    fi
    say "installing $dir with $("$python" --version) from $lock (a few minutes the first time)"
    [ -x "$dir/bin/python" ] || "$python" -m venv "$dir"
    pip_quiet "$dir" install --upgrade pip
    pip_quiet "$dir" install -r "$lock"
    "$@"
    echo "$want" > "$dir/.installed"
}

pip_quiet() {  # pip without progress noise; this machine's pip config warns about absent local mirrors
    local dir=$1; shift
    "$dir/bin/pip" "$@" --quiet 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
}

install_rasa_sdk() {
    # rasa-sdk 3.6.2 declares Python < 3.11 but runs on 3.11; its dependencies are already in app.lock.
    pip_quiet .venv/app install --no-deps --ignore-requires-python rasa-sdk==3.6.2
}

disable_rasa_telemetry() {
    .venv/rasa/bin/rasa telemetry disable >/dev/null 2>&1 || true
}

mkdir -p .venv
# var/ keeps conversations, the journal, accounts and logs: others may only pass through it to the embedding model
# (var/models, readable on purpose). `make serve` also tightens, at each start, what older versions left there.
mkdir -p -m 0711 var && mkdir -p -m 0700 var/log
python310=$(find_python 3.10 MOCUA_PYTHON310)
python311=$(find_python 3.11 MOCUA_PYTHON311)
make_env .venv/rasa "$python310" requirements/rasa.lock disable_rasa_telemetry
make_env .venv/app "$python311" requirements/app.lock install_rasa_sdk
