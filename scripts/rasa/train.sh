#!/usr/bin/env bash
# Train (once per data version) an NLU-only Rasa model from intents/data + intents/config.yml.
# Never reads intents/test/ (the held-out split). Needs no network once setup.sh has run.
# Prints the model path as the last line of standard output.
# --cached-only: never install or train; exit 3 (saying what to run) when Rasa is not installed or
# no model fits the data.
set -euo pipefail
CACHED_ONLY=false
[[ "${1:-}" == "--cached-only" ]] && CACHED_ONLY=true

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${RASA_VENV:-/root/.cache/dhrbot/rasa-venv}"
MODELS="${RASA_MODELS:-/root/.cache/dhrbot/rasa-models}"
export RASA_TELEMETRY_ENABLED=false          # no phoning home
export RASA_CACHE_DIRECTORY="${RASA_CACHE_DIRECTORY:-/root/.cache/dhrbot/rasa-cache}"  # not .rasa/ in the tree
export TF_CPP_MIN_LOG_LEVEL=2

# Key the model by the bytes (and names) of everything that shapes it, so unchanged data is never retrained.
HASH="$(cd "$ROOT" && for f in intents/config.yml intents/domain.yml intents/sentence_featurizer.py scripts/rasa/requirements-encoder.txt intents/data/*.yml; do
    printf '%s\0' "$f"; cat "$f"; done | sha256sum | cut -c1-16)"
NAME="nlu-$HASH"
MODEL="$MODELS/$NAME.tar.gz"

if $CACHED_ONLY && [[ ! -x "$VENV/bin/rasa" ]]; then
    echo "Rasa is not set up on this machine: run \`make rasa\` once (it installs, trains and starts it)" >&2
    exit 3
fi
if [[ -f "$MODEL" ]]; then
    echo "model for this data already trained: $MODEL" >&2
    echo "$MODEL"
    exit 0
fi
if $CACHED_ONLY; then
    echo "no Rasa model fits the current intents/ data: run \`make rasa\` to train one" >&2
    exit 3
fi

bash "$ROOT/scripts/rasa/setup.sh" >&2
mkdir -p "$MODELS" "$RASA_CACHE_DIRECTORY"
start=$(date +%s)
# Run from a scratch folder: Rasa writes helper files into the working directory.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && PYTHONPATH="$ROOT/intents${PYTHONPATH:+:$PYTHONPATH}" "$VENV/bin/rasa" train nlu \
    --config "$ROOT/intents/config.yml" \
    --domain "$ROOT/intents/domain.yml" \
    --nlu "$ROOT/intents/data" \
    --out "$MODELS" \
    --fixed-model-name "$NAME" \
    --num-threads 2) >&2
echo "trained $MODEL in $(( $(date +%s) - start ))s" >&2
echo "$MODEL"
