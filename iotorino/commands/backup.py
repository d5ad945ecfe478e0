"""`iotorino backup` and `iotorino restore`: InfluxDB, dead letters, spools, monitor state, manifests, config."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by `iotorino backup` and `iotorino restore`."""
    parser.add_argument("path", type=Path, help="backup: directory to create the backup in; restore: the backup")
    parser.add_argument("--settings", type=Path, default=None, help="stack settings (default deploy/stack.toml)")
    parser.add_argument("--output", type=Path, default=None, help="provisioned directory (default: the settings')")
    parser.add_argument("--exports", type=Path, default=None,
                        help="exports directory whose manifests to keep (default: the stack's, <output>/state/exports)")
    parser.add_argument("--monitor-spool", type=Path, default=None,
                        help="a beacon monitor's status spool outside the stack (the stack's own is always kept)")


def _stack(args: argparse.Namespace):
    from iotorino.provision import settings
    from iotorino.provision.stack import SecureStack

    return SecureStack(settings.load(args.settings or settings.DEFAULT_FILE, output=args.output))


def run_backup(args: argparse.Namespace) -> int:
    """Take a backup of the running stack."""
    from iotorino.provision import render
    from iotorino.provision.backup import backup

    stack = _stack(args)
    made = backup(stack, args.path, exports=args.exports or Path(render.exports_dir(stack.target)),
                  monitor_spool=args.monitor_spool)
    print(f"backup written to {made} (no secrets: keep <output>/secrets/ in the city's vault)")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    """Restore a backup into the stopped stack's empty servers."""
    from iotorino.provision.backup import restore

    restore(_stack(args), args.path, monitor_spool=args.monitor_spool)
    print(f"restored {args.path}; start the stack with `iotorino stack up --secure`")
    return 0


run = run_backup
