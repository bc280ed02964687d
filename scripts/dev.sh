#!/usr/bin/env bash
# The one run command: builds the web client when Node.js is present (scripts/web.sh),
# then starts `layer4 dev` (API on :3000 serving the client at /, gateway on :3001).
# Without Node.js the servers still start, and http://127.0.0.1:3000/ says how to build
# the client. Arguments go to `layer4 dev`, e.g. scripts/dev.sh --demo
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v npm >/dev/null 2>&1; then
  scripts/web.sh
else
  echo "scripts/dev.sh: no Node.js/npm, so the web client is not built; the API and gateway start anyway" >&2
fi
exec cargo run --release -- dev "$@"
