"""`iotorino beacons serve`: fleet health monitor and the notification service's feed (iotorino/beacons/)."""

from __future__ import annotations

import argparse

from iotorino.core import extras


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `iotorino beacons`."""
    if extras.missing("ble"):
        extras.stand_in(parser, "ble")
        return
    from iotorino.beacons.serve import add_arguments as add_serve_arguments

    add_serve_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the chosen action."""
    extras.require("ble", "iotorino beacons")
    from iotorino.beacons.serve import run_beacons_serve

    return run_beacons_serve(args)
