"""`iotorino config check FILE...`: load configuration files as their components do, and cross-check them.

Each file's kind is told by its tables: `[[subscriptions]]` a collector,
`[gateway]` a BLE gateway, otherwise a beacon monitor. Then the settings
that must agree across files are compared: the monitor's
`thresholds.window_s` and every gateway's `gateway.window_s`. The first
problem stops with the key, the value and what is accepted (exit status 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `iotorino config`."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="load config files and cross-check them")
    check.add_argument("files", nargs="+", type=Path, help="collector, gateway and monitor TOML files")


def kind_of(raw: dict[str, Any]) -> str:
    """collector, gateway or monitor: which component a parsed config file belongs to."""
    if "subscriptions" in raw:
        return "collector"
    return "gateway" if "gateway" in raw else "monitor"


def load_all(files: list[Path]) -> list[tuple[Path, str, Any]]:
    """(file, kind, loaded config) of each file, then the cross-checks; raises `ConfigError` on the first problem."""
    from ingest.ble_beacons import config as gateway_config
    from ingest.mqtt import config as collector_config
    from iotorino.beacons import config as monitor_config
    from iotorino.core.config import agree, read_toml

    loaders = {"collector": collector_config.load, "gateway": gateway_config.load, "monitor": monitor_config.load}
    loaded = []
    for path in files:
        kind = kind_of(read_toml(path))
        loaded.append((path, kind, loaders[kind](path)))
    for monitor_path, _, monitor in (item for item in loaded if item[1] == "monitor"):
        for gateway_path, _, gateway in (item for item in loaded if item[1] == "gateway"):
            agree(f"thresholds.window_s ({monitor_path})", monitor.thresholds.window_s,
                  f"gateway.window_s ({gateway_path})", gateway.gateway.window_s)
    return loaded


def run(args: argparse.Namespace) -> int:
    """Check the files; print one line per file."""
    for path, kind, _ in load_all(args.files):
        print(f"ok: {path} ({kind})")
    return 0
