"""`iotorino demo`: the main job end to end on local servers (state in var/demo).

Starts Mosquitto and InfluxDB on loopback, runs the collector, publishes one
simulated city day, waits until every message is stored or rejected, runs the
daily export DAG for that day, puts the schools' simulated week before it into
InfluxDB in bulk and exports that week's school KPIs, and prints what happened.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from iotorino.core import extras

ROME = ZoneInfo("Europe/Rome")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `iotorino demo`."""
    yesterday = datetime.now(ROME).date() - timedelta(days=1)
    parser.add_argument("--day", type=date.fromisoformat, default=yesterday,
                        help="local day (Europe/Rome) to simulate, YYYY-MM-DD (default: yesterday)")
    parser.add_argument("--hours", type=float, default=24.0,
                        help="simulated hours from the start of the day (default: 24, the whole day)")
    parser.add_argument("--state-dir", type=Path, default=None,
                        help="where the servers keep their state (default: var/demo; wiped at start)")
    parser.add_argument("--speed", default="max",
                        help="simulated seconds per wall second, or 'max' (default: max)")
    parser.add_argument("--seed", type=int, default=2026, help="simulator seed (default: 2026)")
    parser.add_argument("--fault-rate", type=float, default=0.001,
                        help="share of messages with an injected sensor fault (default: 0.001)")
    parser.add_argument("--history-days", type=int, default=7,
                        help="days of school KPIs for the dashboards: the day and the ones before it, loaded in bulk "
                             "(default: 7)")
    parser.add_argument("--stop-servers", action="store_true",
                        help="stop InfluxDB at the end too (by default it keeps running for the printed queries)")
    parser.add_argument("--stop", action="store_true", help="only stop servers a previous demo left running")


def run(args: argparse.Namespace) -> int:
    """Run the demo (see the module docstring)."""
    from iotorino.core import paths
    for extra in ("simulate", "export"):
        extras.require(extra, "iotorino demo")
    from iotorino.demo import Demo

    demo = Demo(args.state_dir or paths.VAR / "demo")
    if args.stop:
        demo.stop_leftovers()
        return 0
    if args.history_days < 1:
        from iotorino.core.errors import ConfigError
        raise ConfigError("--history-days", f"{args.history_days} is not a number of days", "1 or more")
    return demo.run(args.day, args.hours, args.speed, args.seed, args.fault_rate, not args.stop_servers, args.history_days)
