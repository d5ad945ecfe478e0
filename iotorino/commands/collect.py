"""`iotorino collect mqtt|ble --config FILE`: run a collector until SIGINT/SIGTERM (or a BLE replay ends)."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from iotorino.core import extras


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `iotorino collect`."""
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    mqtt = kinds.add_parser("mqtt", help="subscribe to the broker and store readings in InfluxDB")
    mqtt.add_argument("--config", required=True, type=Path, help="TOML file, see ingest/mqtt/sample.toml")
    ble = kinds.add_parser("ble", help="scan for the fleet's BLE beacons (or replay a capture) and publish readings")
    if extras.missing("ble"):
        extras.stand_in(ble, "ble")
        return
    from ingest.ble_beacons.app import add_arguments as add_ble_arguments

    add_ble_arguments(ble)


def run(args: argparse.Namespace) -> int:
    """Run the chosen collector."""
    if args.kind == "ble":
        extras.require("ble", "iotorino collect ble")
        from ingest.ble_beacons.app import run_collect_ble

        return run_collect_ble(args)
    return run_mqtt(args.config)


def run_mqtt(config_path: Path) -> int:
    """Load the config, build the collector and run it until a signal (0) or a failed component (1)."""
    from ingest.mqtt.app import build_collector

    collector = build_collector(config_path)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return collector.run_until(stop)
