"""`iotorino export DATASET --date D` (or `--from D1 --to D2`): the daily exports without Airflow.

DATASET is a dataset id (see `iotorino export --list`) or `all`. Days are local
(Europe/Rome) and inclusive; each day's partition is replaced atomically.
Store and output default to the `IOTORINO_INFLUX_*` / `IOTORINO_EXPORT_DIR`
environment (see iotorino/export/settings.py), overridable here.

A day's datasets share one read of each measurement. A range of days is a
backfill: `--jobs N` exports N days at once (processes), and a journal in
`OUT/.backfill/` records every finished day, so `--resume` after an interruption
(Ctrl-C, kill, reboot) starts where it stopped instead of from the first day.
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
    parser.add_argument("--jobs", type=int, default=1, help="days exported at once in a backfill (processes; default 1)")
    parser.add_argument("--resume", action="store_true",
                        help="skip the days the backfill journal records as done for these datasets")
    parser.add_argument("--to-influx", action="store_true",
                        help="also write the indicator datasets' days back into InfluxDB, as their DAGs do "
                             "(needs a user allowed to write; see docs/indicators.md)")


def run(args: argparse.Namespace) -> int:
    """Export the chosen datasets for the chosen days; print one line per file written."""
    from dataclasses import replace

    extras.require("export", "iotorino export")
    from tqdm import tqdm

    from iotorino.core.errors import ConfigError
    from iotorino.export import backfill, influx_indicators, registry, settings
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
    if args.jobs < 1:
        raise ConfigError("--jobs", f"{args.jobs} is not a number of processes", "1 or more")
    written_back = set(influx_indicators.schemes()) if args.to_influx else set()
    journal = backfill.Journal(Path(out_dir), chosen)
    done = journal.done() if args.resume else set()
    todo = [day for day in days if day not in done]
    bar = tqdm(total=len(days), initial=len(days) - len(todo), unit="day", file=sys.stderr,
               disable=args.no_progress or len(days) == 1)
    for day, results in backfill.export_days(chosen, todo, influx, out_dir, args.jobs,
                                             trigger="iotorino export (command line)"):
        journal.record(day)
        for result in results:
            bar.write(f"{result.dataset} {result.day} {result.rows} rows {result.path}", file=sys.stdout)
            if args.to_influx and result.dataset in written_back:
                points = influx_indicators.write_day(result.dataset, result.day, influx, out_dir)
                bar.write(f"{result.dataset} {result.day} {points} points InfluxDB "
                          f"{influx.database}.{influx_indicators.RETENTION_POLICY}.{result.dataset}", file=sys.stdout)
        bar.set_description(str(day))
        bar.update(1)
    bar.close()
    return 0
