#!/usr/bin/env bash
# Start a Rasa 3.6 NLU server on 127.0.0.1 in the background, wait until it answers, and write
# RASA_URL / RASA_TOKEN / RASA_PID to var/rasa.env for tests and `dhrbot` to source.
# Idempotent: if the server recorded in var/rasa.env still answers, it is left running.
# --cached-only: start only what `make rasa` already installed and trained; exit 3 (saying what to
# run) when Rasa is not set up or its model does not fit intents/ (the tests use this).
set -euo pipefail
CACHED_ONLY=""
[[ "${1:-}" == "--cached-only" ]] && CACHED_ONLY="--cached-only"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${RASA_VENV:-/root/.cache/dhrbot/rasa-venv}"
HOST="${RASA_HOST:-127.0.0.1}"
PORT="${RASA_PORT:-5005}"
VAR="$ROOT/var"
ENV_FILE="$VAR/rasa.env"
WAIT_SECONDS="${RASA_WAIT_SECONDS:-300}"
export RASA_TELEMETRY_ENABLED=false
export RASA_CACHE_DIRECTORY="${RASA_CACHE_DIRECTORY:-/root/.cache/dhrbot/rasa-cache}"
export TF_CPP_MIN_LOG_LEVEL=2
mkdir -p "$VAR"

status_ok() {  # $1 url, $2 token
    curl -fsS --max-time 3 "$1/status?token=$2" >/dev/null 2>&1
}

if [[ -f "$ENV_FILE" ]]; then
    # shellcheck disable=SC1090
    source "$ENV_FILE"
    if status_ok "$RASA_URL" "$RASA_TOKEN"; then
        echo "Rasa already running at $RASA_URL (pid ${RASA_PID:-?})"
        exit 0
    fi
fi

MODEL="$(bash "$ROOT/scripts/rasa/train.sh" $CACHED_ONLY | tail -n 1)" || exit $?
# Port taken (e.g. by a server from another checkout)? Take a free one rather than fail: the
# chosen URL is written to var/rasa.env, which is what clients read.
if ! python3 -c "import socket,sys; s=socket.socket(); s.bind(('$HOST', $PORT))" 2>/dev/null; then
    PORT="$(python3 -c "import socket; s=socket.socket(); s.bind(('$HOST', 0)); print(s.getsockname()[1])")"
    echo "port ${RASA_PORT:-5005} is busy; using $PORT" >&2
fi
# Hex only: a URL-safe token may start with "-", which Rasa's argument parser reads as an option.
TOKEN="$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
URL="http://$HOST:$PORT"

work="$VAR/rasa-run"
mkdir -p "$work"
cd "$work"
PYTHONPATH="$ROOT/intents${PYTHONPATH:+:$PYTHONPATH}" nohup "$VENV/bin/rasa" run --enable-api --auth-token="$TOKEN" \
    --model "$MODEL" --interface "$HOST" --port "$PORT" \
    >"$VAR/rasa.log" 2>&1 &
PID=$!

for ((i = 0; i < WAIT_SECONDS; i++)); do
    if status_ok "$URL" "$TOKEN"; then
        umask 077
        printf 'RASA_URL=%s\nRASA_TOKEN=%s\nRASA_PID=%s\n' "$URL" "$TOKEN" "$PID" >"$ENV_FILE"
        echo "Rasa NLU server ready at $URL after ${i}s (pid $PID); settings in $ENV_FILE"
        exit 0
    fi
    if ! kill -0 "$PID" 2>/dev/null; then
        echo "error: Rasa exited before answering; last lines of $VAR/rasa.log:" >&2
        tail -n 30 "$VAR/rasa.log" >&2
        exit 1
    fi
    sleep 1
done
echo "error: Rasa did not answer $URL/status within ${WAIT_SECONDS}s; see $VAR/rasa.log" >&2
kill "$PID" 2>/dev/null || true
exit 1
