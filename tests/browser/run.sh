#!/usr/bin/env bash
# Browser tests of the web interface (headless Chromium from Debian's `chromium` package).
# Needs: node >= 20, npm, chromium (apt-get install -y chromium). With CI=true a missing
# browser fails the run instead of skipping it.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
exec node --test --test-concurrency=1 tests/
