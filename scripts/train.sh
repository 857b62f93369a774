#!/usr/bin/env bash
# Trains the Rasa model only when what it learns from changed (config, domain, data, NLU components, vocabulary).
# Knowledge records are not part of it: adding a procedure never needs a retrain.
set -euo pipefail
cd "$(dirname "$0")/.."
# The NLU normaliser reads knowledge/language.py and the vocabulary (knowledge/data/vocabulary/ or MOCUA_VOCABULARY_DIR).
vocabulary=${MOCUA_VOCABULARY_DIR:-knowledge/data/vocabulary}
inputs=$(find config.yml domain.yml data nlu_components knowledge/text.py knowledge/language.py "$vocabulary" \
    -type f \( -name '*.yml' -o -name '*.py' \) | sort)
want=$(cat $inputs | sha256sum | cut -c1-16)
if [ -f models/mocua.tar.gz ] && [ "$(cat var/model.stamp 2>/dev/null)" = "$want" ]; then
    echo "[train] Rasa model is up to date"; exit 0
fi
echo "[train] training the Rasa model (about 2-3 minutes)…"
mkdir -p var/log models
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2 PYTHONPATH="$PWD"
if ! .venv/rasa/bin/rasa train --fixed-model-name mocua --out models > var/log/train.log 2>&1; then
    tail -n 30 var/log/train.log >&2
    echo "[train] ERROR: training failed; full log in var/log/train.log" >&2; exit 1
fi
echo "$want" > var/model.stamp
echo "[train] model written to models/mocua.tar.gz"
