#!/usr/bin/env bash
# Browser tests of the web interface: real headless Chromium (Debian's `chromium` package,
# driven by playwright-core) against the real service, `tradia serve`, with the LLM simulator
# (`tradia simulate-llm`), both started by the tests on 127.0.0.1 and free ports.
#
# Needs: node >= 20 and npm, chromium (apt-get install -y chromium), and the workspace's debug
# build of `tradia` (cargo build), or TRADIA_BIN=/path/to/tradia.
# Environment:
#   CI=true                     a missing browser fails the run instead of skipping it
#   TRADIA_BIN                  the tradia binary (default: $CARGO_TARGET_DIR or target/, debug)
#   TRADIA_BROWSER_SERVER=mock  run against the small Node stand-in of the API (lib/mock-server.mjs)
#   TRADIA_BROWSER_ENGINE=pseudo  the service's pseudo engine instead of the simulator
#   TRADIA_SIM_TIME_SCALE       how much faster than real time the simulator runs (default 4)
#   SCREENSHOT_DIR              where screenshots go (default: test-output/screenshots/)
#   CHROMIUM_PATH               the browser (default /usr/bin/chromium)
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
exec node --test --test-concurrency=1 tests/
