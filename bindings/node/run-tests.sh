#!/usr/bin/env bash
#  Run the Node binding's tests: install the locked dependencies into this
#  folder's node_modules (npm ci), then node's test runner over test/*.test.js.
#  ctest runs this as `node_binding` with ZAIO_BROKER set to the built broker.
#  Exits 77 (ctest: skipped) when node or npm is missing, else node's status.
set -eu    #  POSIX sh too: `sh run-tests.sh` works as well as bash
cd "$(dirname "$0")"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "run-tests.sh: node and npm are needed for the Node binding's tests" >&2
    exit 77
fi
echo "node $(node --version), npm $(npm --version 2>/dev/null)"

npm ci --no-audit --no-fund --loglevel=error
exec node --test --test-reporter=spec test/*.test.js
