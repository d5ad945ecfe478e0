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
    "config": ("config", "check configuration files and that they agree with each other"),
    "beacons": ("beacons", "BLE beacon fleet health and the notification service's HTTP feed"),
    "deadletters": ("deadletters", "list, show and replay the collector's rejected messages"),
    "decode": ("decode", "show the line protocol a message would produce, or why it is rejected"),
    "demo": ("demo", "the main job end to end: brokers, simulated day, collector, export"),
    "simulate": ("simulate", "publish the fleet's simulated telemetry for a period over MQTT"),
    "export": ("export", "export open-data datasets for local days (Parquet, CSV, DCAT-AP_IT)"),
    "alerts": ("alerts", "the city alert service: thresholds on street data from MQTT, alerts retained and over HTTP"),
    "web": ("web", "serve the web application: open data, schools, city"),
    "opendata": ("opendata", "open-data portal as static files; monthly and yearly files"),
    "provision": ("provision", "broker users, ACL, certificates and InfluxDB users from the inventory"),
    "stack": ("stack", "the production stack as local processes: up --secure, down, status"),
    "backup": ("backup", "back up InfluxDB, dead letters, spools, monitor state, manifests and config"),
    "restore": ("restore", "restore a backup into the stopped stack's empty servers"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser with every registered subcommand; with `only`, the options of that command alone
    (the others listed by name), so a command starts without importing every other one."""
    parser = argparse.ArgumentParser(prog="iotorino", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(_module=module)
        if only is None or only == name:
            importlib.import_module(f"iotorino.commands.{module}").add_arguments(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    words = sys.argv[1:] if argv is None else argv
    chosen = next((word for word in words if not word.startswith("-")), None)
    parser = build_parser(chosen if chosen in COMMANDS else None)
    args, unknown = parser.parse_known_args(argv)
    if unknown and not getattr(args, "_missing_extra", None):  # a stand-in takes any options (see core.extras)
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
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
