"""`python -m benchmarks [names...]`: run every benchmark, or the named ones, and print one table.

    .venv/bin/python -m benchmarks                      # everything, the issue's sizes
    .venv/bin/python -m benchmarks latency drain        # a subset
    .venv/bin/python -m benchmarks soak --soak-s 1800   # the 30-minute soak

Names: exports, drain, latency, soak, restore, simulate, schools, city, indicators, opendata. Each prints its
progress, then the table gives every figure with its baseline measured in the
same run, the ratio, the target and whether it is met, under a header naming
the machine and the date. Run on a quiet machine: other load skews everything
(ratios to a same-run baseline skew least).
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date

from benchmarks.report import Figure, now, table

NAMES = ("exports", "drain", "latency", "soak", "restore", "simulate", "schools", "city", "indicators", "opendata")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks and print the table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(NAMES)} (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="repeats where a median is taken (default 3)")
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 21), help="exports: the simulated day")
    parser.add_argument("--store-url", help="exports: a scratch InfluxDB that already holds the day (skips loading)")
    parser.add_argument("--backfill-days", type=int, default=30, help="exports: days of the backfill run (default 30)")
    parser.add_argument("--messages", type=int, default=200_000, help="drain: queued messages (default 200,000)")
    parser.add_argument("--latency-s", type=float, default=30.0, help="latency: seconds at each rate (default 30)")
    parser.add_argument("--soak-s", type=float, default=1800.0, help="soak: seconds at 2,000 msg/s (default 1,800)")
    parser.add_argument("--beacons", type=int, default=500, help="restore: beacons (default 500)")
    parser.add_argument("--school-days", type=int, default=365, help="schools: simulated days in InfluxDB (default 365)")
    parser.add_argument("--jobs", type=int, default=2, help="schools: processes loading and exporting (default 2)")
    parser.add_argument("--city-tree", help="city: a folder keeping the generated year of datasets (reused when complete)")
    parser.add_argument("--units", type=int, default=500, help="indicators, opendata: street units (default 500)")
    parser.add_argument("--days", type=int, default=365, help="opendata: days of daily partitions (default 365)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(map(repr, unknown))}; accepted: {', '.join(NAMES)}")
    logging.basicConfig(level=logging.WARNING)
    started = now()
    figures: list[Figure] = []
    for name in args.names or NAMES:
        print(f"[{name}]", flush=True)
        if name == "exports":
            from benchmarks import exports
            figures += exports.run(args.day, args.repeat, 1, args.backfill_days, args.store_url)
        elif name == "drain":
            from benchmarks import ingest
            figures += ingest.drain(args.messages, args.repeat)
        elif name == "latency":
            from benchmarks import ingest
            figures += ingest.latency([200, 5000], args.latency_s, args.repeat)
        elif name == "soak":
            from benchmarks import ingest
            figures += ingest.soak(2000, args.soak_s)
        elif name == "restore":
            from benchmarks import restore
            figures += restore.run(args.beacons, args.repeat)
        elif name == "simulate":
            from benchmarks import simulate
            figures += simulate.run(2.0, args.repeat)
        elif name == "schools":
            from benchmarks import schools
            figures += schools.run(args.repeat, args.school_days, args.jobs)
        elif name == "city":
            from benchmarks import city
            figures += city.run(args.repeat, args.city_tree)
        elif name == "indicators":
            from benchmarks import indicators_year
            figures += indicators_year.run(args.units, args.repeat)
        elif name == "opendata":
            from benchmarks import opendata
            figures += opendata.run(args.units, args.days, args.repeat)
    print()
    print(table(figures, started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
