"""`iotorino stack up --secure | down | status`: the production configuration as local processes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `iotorino stack`."""
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument("--secure", action="store_true",
                        help="required with up: TLS, passwords, ACL, InfluxDB auth (the only stack this command runs)")
    parser.add_argument("--settings", type=Path, default=None, help="stack settings (default deploy/stack.toml)")
    parser.add_argument("--output", type=Path, default=None, help="provisioned directory (default: the settings')")


def run(args: argparse.Namespace) -> int:
    """Start, stop or show the stack."""
    from iotorino.core import extras

    extras.require("production", "iotorino stack")
    from iotorino.provision import settings
    from iotorino.provision.stack import SecureStack

    stack = SecureStack(settings.load(args.settings or settings.DEFAULT_FILE, output=args.output))
    if args.action == "up":
        if not args.secure:
            print("iotorino stack up: pass --secure (the quick anonymous stack is `iotorino demo`"
                  " or docker-compose.local.yml)")
            return 2
        for member in stack.up():
            print(f"{member.name}: pid {member.pid}, port {member.port}, log {member.log}")
    elif args.action == "down":
        stack.down()
    else:
        rows = stack.status()
        print(json.dumps(rows, indent=1))
        return 0 if rows and all(row["ready"] for row in rows) else 1
    return 0
