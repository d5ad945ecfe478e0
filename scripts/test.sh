#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
printf '\033[1m[test]\033[0m running pytest (real mosquitto and influxd are started by the fixtures)\n'
exec .venv/bin/python -m pytest "$@"
