"""`iotorino simulate`: publish the fleet's simulated telemetry (see iotorino/simulate/)."""

from __future__ import annotations

import argparse

from iotorino.core import extras


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `iotorino simulate`."""
    from iotorino.simulate.ble_cli import add_arguments as add_ble_capture_arguments
    from iotorino.simulate.cli import add_simulate_arguments

    add_simulate_arguments(parser)
    what = parser.add_subparsers(dest="what", metavar="{ble-capture}")
    add_ble_capture_arguments(what.add_parser("ble-capture", help="write whole-fleet BLE captures to replay"))


def run(args: argparse.Namespace) -> int:
    """Run the simulator with parsed `args` (or write BLE captures with `ble-capture`)."""
    if getattr(args, "what", None) == "ble-capture":
        from iotorino.simulate.ble_cli import run_simulate_ble

        return run_simulate_ble(args)
    if not args.dry_run:
        extras.require("simulate", "iotorino simulate")
    from iotorino.simulate.cli import run_simulate

    return run_simulate(args)
