"""`iotorino export DATASET --date D` (or `--from D1 --to D2`): the daily exports without Airflow.

DATASET is a dataset id (see `iotorino export --list`) or `all`. Days are local
(Europe/Rome) and inclusive; each day's partition is replaced atomically.
Store and output default to the `IOTORINO_INFLUX_*` / `IOTORINO_EXPORT_DIR`
environment (see iotorino/export/settings.py), overridable here.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from iotorino.core import extras


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `iotorino export`."""
    parser.add_argument("dataset", nargs="?", help="dataset id, or 'all'")
    parser.add_argument("--list", action="store_true", help="list the dataset ids and exit")
    parser.add_argument("--date", help="one local day, YYYY-MM-DD")
    parser.add_argument("--from", dest="first", help="first local day of a backfill, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", help="last local day of a backfill (inclusive), YYYY-MM-DD")
    parser.add_argument("--out", type=Path, help="output directory (default: $IOTORINO_EXPORT_DIR or var/exports)")
    parser.add_argument("--influx-url", help="InfluxDB v1 HTTP API (default: $IOTORINO_INFLUX_URL or http://127.0.0.1:8086)")
    parser.add_argument("--database", help="InfluxDB database (default: $IOTORINO_INFLUX_DB or iotorino)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Export the chosen datasets for the chosen days; print one line per file written."""
    from dataclasses import replace

    extras.require("export", "iotorino export")
    from tqdm import tqdm

    from iotorino.core.errors import ConfigError
    from iotorino.export import registry, run_export, settings
    from iotorino.export.window import parse_day

    names = list(registry())
    if args.list:
        print("\n".join(names))
        return 0
    if not args.dataset:
        raise ConfigError("dataset", "missing", "a dataset id (iotorino export --list) or 'all'")
    chosen = names if args.dataset == "all" else [args.dataset]
    if args.date and (args.first or args.last):
        raise ConfigError("--date", "cannot be combined with --from/--to", "--date D, or --from D1 --to D2")
    if args.date:
        first = last = parse_day(args.date)
    elif args.first and args.last:
        first, last = parse_day(args.first), parse_day(args.last)
    else:
        raise ConfigError("--date", "no day given", "--date YYYY-MM-DD, or --from YYYY-MM-DD --to YYYY-MM-DD")
    if last < first:
        raise ConfigError("--to", f"{last} is before --from {first}", f"a day on or after {first}")
    influx = settings.influx_from_env()
    if args.influx_url or args.database:
        influx = replace(influx, url=args.influx_url or influx.url, database=args.database or influx.database)
    out_dir = args.out or settings.export_dir_from_env()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    jobs = [(day, name) for day in days for name in chosen]
    bar = tqdm(jobs, unit="export", file=sys.stderr, disable=args.no_progress or len(jobs) == 1)
    for day, name in bar:
        bar.set_description(f"{name} {day}")
        result = run_export(name, day, influx, out_dir, trigger="iotorino export (command line)")
        bar.write(f"{result.dataset} {result.day} {result.rows} rows {result.path}", file=sys.stdout)
    return 0
