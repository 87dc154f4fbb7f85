#!/usr/bin/env bash
# Stop the Rasa server started by serve.sh (by its recorded pid only) and forget its settings.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ENV_FILE="$ROOT/var/rasa.env"
[[ -f "$ENV_FILE" ]] || { echo "no $ENV_FILE: nothing to stop"; exit 0; }
# shellcheck disable=SC1090
source "$ENV_FILE"
if [[ -n "${RASA_PID:-}" ]] && kill -0 "$RASA_PID" 2>/dev/null; then
    kill "$RASA_PID"
    echo "stopped Rasa (pid $RASA_PID)"
fi
rm -f "$ENV_FILE"
