"""`iotorino simulate`: publish the fleet's simulated telemetry (see iotorino/simulate/)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `iotorino simulate`."""
    from iotorino.simulate.cli import add_simulate_arguments

    add_simulate_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the simulator with parsed `args`."""
    from iotorino.simulate.cli import run_simulate

    return run_simulate(args)
