"""`iotorino provision`: broker users, ACL, certificates and InfluxDB users from the inventory."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `iotorino provision`."""
    parser.add_argument("--settings", type=Path, default=None, help="stack settings (default deploy/stack.toml)")
    parser.add_argument("--output", type=Path, default=None, help="provisioned directory (default: the settings')")
    parser.add_argument("--secrets-dir", type=Path, default=None,
                        help="where the secrets are (default <output>/secrets; /run/secrets in a container)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("files", help="generate the configuration, secrets and certificates (the default)")
    rotate = actions.add_parser("rotate", help="a new password for one device or gateway, the others unchanged")
    rotate.add_argument("user", help="the device's user name, e.g. TO-SU-0001 or TO-SC-01.A101")
    influx = actions.add_parser("influx", help="create the admin, database, retention policies, users and grants")
    influx.add_argument("--url", required=True, help="a running influxd with auth-enabled, e.g. http://influxdb:8086")


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; secrets are never printed, only where they were written."""
    from iotorino.core import extras

    extras.require("production", "iotorino provision")
    from iotorino.provision import influx, settings
    from iotorino.provision.provision import influx_users, provision, rotate
    from iotorino.provision.stack import SecureStack

    stack_settings = settings.load(args.settings or settings.DEFAULT_FILE, output=args.output)
    if args.action == "rotate":
        rotate(stack_settings, args.user)
        reloaded = SecureStack(stack_settings).reload_broker()
        print(f"new password for {args.user} written to {stack_settings.output / 'secrets' / 'devices.csv'}"
              + ("; broker reloaded" if reloaded else "; reload the broker (SIGHUP) to apply it"))
    elif args.action == "influx":
        admin, users = influx_users(args.secrets_dir or stack_settings.output / "secrets")
        influx.set_up(args.url, stack_settings, admin, users)
        print(f"InfluxDB at {args.url}: database {stack_settings.database}, users {', '.join(users)}")
    else:
        done = provision(stack_settings)
        print(f"{len(done.principals)} users provisioned into {done.output}; secrets (0600) in {done.secrets.directory}")
    return 0
