#!/usr/bin/env bash
# Builds the web client into web/dist, which `layer4 dev` serves at `/`. Installs the
# locked npm packages first when web/node_modules is missing or older than the lock
# file. Needs Node.js 20+ and npm. Usage: scripts/web.sh [--test]  (--test also runs
# the Vitest unit tests; the browser tests run in `cargo test --workspace`, tests/web.rs)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "scripts/web.sh: Node.js 20+ with npm is needed to build the web client (https://nodejs.org)" >&2
  exit 1
fi
if [[ ! -f web/node_modules/.package-lock.json || web/package-lock.json -nt web/node_modules/.package-lock.json ]]; then
  npm --prefix web ci --no-audit --no-fund
fi
if [[ "${1:-}" == "--test" ]]; then
  npm --prefix web test
fi
npm --prefix web run build
echo "web client built in web/dist"
