"""The `iotorino` command: one subcommand per module in iotorino/commands/.

Each command module has `add_arguments(parser)` and `run(args) -> int`. The
registry below is explicit: adding a command is adding a line here.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from iotorino.core.errors import ConfigError, IotorinoError

# name -> (module under iotorino.commands, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "collect": ("collect", "run a collector (mqtt, ble) until interrupted"),
    "beacons": ("beacons", "BLE beacon fleet health and the notification service's HTTP feed"),
    "deadletters": ("deadletters", "list, show and replay the collector's rejected messages"),
    "decode": ("decode", "show the line protocol a message would produce, or why it is rejected"),
    "demo": ("demo", "the main job end to end: brokers, simulated day, collector, export"),
    "simulate": ("simulate", "publish the fleet's simulated telemetry for a period over MQTT"),
    "export": ("export", "export open-data datasets for local days (Parquet, CSV, DCAT-AP_IT)"),
    "provision": ("provision", "broker users, ACL, certificates and InfluxDB users from the inventory"),
    "stack": ("stack", "the production stack as local processes: up --secure, down, status"),
    "backup": ("backup", "back up InfluxDB, dead letters, spools, monitor state, manifests and config"),
    "restore": ("restore", "restore a backup into the stopped stack's empty servers"),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand."""
    parser = argparse.ArgumentParser(prog="iotorino", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(_module=module)
        importlib.import_module(f"iotorino.commands.{module}").add_arguments(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return importlib.import_module(f"iotorino.commands.{args._module}").run(args)
    except ConfigError as exc:
        print(f"iotorino: configuration error: {exc}", file=sys.stderr)
        return 2
    except IotorinoError as exc:
        print(f"iotorino: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
