#!/usr/bin/env bash
# Set up (idempotent) and run the main job end to end: local Mosquitto and
# InfluxDB, one simulated city day over MQTT, the collector, the daily export DAG.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
printf '\033[1m[demo]\033[0m starting the IoTorino demo (state in var/demo)\n'
exec .venv/bin/iotorino demo "$@"
