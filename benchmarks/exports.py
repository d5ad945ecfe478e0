"""The daily export of one full simulated city day, its floor, and a backfill extrapolated to a year.

Loads one simulated local day (every street unit and school at its profile's
interval, through the MQTT pipeline's decoder, an hour either side) into a
private influxd, unless `store_url` names a scratch store that already holds it
(the backfill writes copies of the day into it). Then:

- floor: the time to read that day's raw points (every measurement, CSV, the
  fastest transfer InfluxDB 1.x offers) — no export can be faster than this;
- export: `iotorino export all --date DAY` in a subprocess, wall time and peak
  memory (max RSS of that process); medians over `repeat`;
- backfill: the day's points copied to the `backfill_days - 1` days before it
  (default 30 days in all), then `iotorino export all --from --to --jobs 2` over
  them with the progress bar and journal as an operator runs it; a year (365
  days) extrapolated linearly from the wall time per day. Linear is optimistic
  for one dataset: `air_quality_indicators` reads the year so far, so its day
  costs more late in a year than in the benchmark's month.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.report import Figure, median
from iotorino.core import catalogue
from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings
from iotorino.export.window import local_day
from iotorino.services import Influxd
from iotorino.testing.city import load_city

ROOT = Path(__file__).resolve().parents[1]
DAY_NS = 86_400 * 1_000_000_000


def read_floor(client: InfluxV1Client, day: date) -> tuple[float, int]:
    """Seconds to read every raw point of local day `day` as CSV, and how many bytes that was."""
    window = local_day(day)
    started, size = time.perf_counter(), 0
    for name in catalogue.default().measurements:
        size += len(client.query_csv(
            f'SELECT * FROM "{name}" WHERE time >= {window.start_ns} AND time < {window.end_ns} GROUP BY *'))
    return time.perf_counter() - started, size


def export_once(env: dict[str, str], args: list[str]) -> tuple[float, int]:
    """One `iotorino export ...` process: (wall seconds, max RSS bytes)."""
    began = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "iotorino", "export", *args, "--no-progress"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"iotorino export {' '.join(args)} failed")
    return time.monotonic() - began, usage.ru_maxrss * 1024  # Linux reports KiB


def copy_day(client: InfluxV1Client, day: date, offsets_days: list[int]) -> int:
    """Write the day's raw points again `offset` days earlier, for each offset (line protocol from the CSV answer)."""
    window = local_day(day)
    written = 0
    for name in catalogue.default().measurements:
        body = client.query_csv(f'SELECT * FROM "{name}" WHERE time >= {window.start_ns} AND time < {window.end_ns} GROUP BY *')
        if not body.strip():
            continue
        rows = csv.reader(io.StringIO(body.decode()))
        header = next(rows)
        fields = header[3:]
        lines = []
        for row in rows:
            values = ",".join(f"{f}={v}" for f, v in zip(fields, row[3:]) if v != "")
            lines.append((f"{row[0]},{row[1]} {values}" if row[1] else f"{row[0]} {values}", int(row[2])))
        for offset in offsets_days:
            shift = offset * DAY_NS
            body_out = "\n".join(f"{head} {t - shift}" for head, t in lines).encode()
            at = 0
            while at < len(body_out):  # about 8 MB of whole lines per request
                cut = body_out.find(b"\n", at + 8_000_000)
                cut = len(body_out) if cut < 0 else cut
                client.write_lines(body_out[at:cut])
                at = cut + 1
            written += len(lines)
    return written


def run(day: date, repeat: int, seed: int, backfill_days: int, store_url: str | None = None) -> list[Figure]:
    """Measure and return the figures (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="iotorino-bench-") as tmp:
        server = None if store_url else Influxd(Path(tmp) / "influxd").start()
        url = store_url or server.url
        database = "iotorino"
        try:
            client = InfluxV1Client(InfluxV1Settings(url=url, database=database, timeout_s=300))
            loaded = "the day already in the store"
            if server:
                client.create_database()
                window = local_day(day)
                began = time.monotonic()
                messages, readings = load_city(client, window.start - timedelta(hours=1), window.end + timedelta(hours=1), seed)
                loaded = f"loaded {messages:,} messages -> {readings:,} readings in {time.monotonic() - began:.0f} s"
            print(f"  exports: {loaded}", flush=True)
            env = dict(os.environ, PYTHONPATH=str(ROOT), IOTORINO_INFLUX_URL=url, IOTORINO_INFLUX_DB=database)
            # As installed in production: modules compiled once, not at every start (the first run writes them).
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            floors, walls, peaks = [], [], []
            for i in range(repeat):
                floor, size = read_floor(client, day)
                wall, peak = export_once(env, ["all", "--date", day.isoformat(), "--out", str(Path(tmp) / "out")])
                floors.append(floor)
                walls.append(wall)
                peaks.append(peak)
                print(f"  export run {i + 1}: {wall:.1f} s, peak {peak / 1e6:.0f} MB; floor {floor:.1f} s "
                      f"({size / 1e6:.0f} MB of CSV)", flush=True)
            figures = [
                Figure("export: one city day, every dataset", median(walls), "s", median(floors), "raw read (floor)", 3.0,
                       True, f"median of {repeat}; {loaded}; includes process start-up"),
                Figure("export: peak memory of that process", max(peaks) / 1e6, "MB", None, "", 500, True),
            ]
            if backfill_days > 1:
                copied = copy_day(client, day, list(range(1, backfill_days)))
                print(f"  backfill: copied {copied:,} points to {backfill_days - 1} earlier days", flush=True)
                first = day - timedelta(days=backfill_days - 1)
                wall, _ = export_once(env, ["all", "--from", first.isoformat(), "--to", day.isoformat(), "--jobs", "2",
                                            "--out", str(Path(tmp) / "backfill")])
                per_day = wall / backfill_days
                figures.append(Figure("backfill: 365 days, every dataset (extrapolated)", per_day * 365 / 60, "min",
                                      None, "", 30, True,
                                      f"measured {backfill_days} days in {wall:.0f} s with --jobs 2 "
                                      f"({per_day:.1f} s/day), times 365"))
            client.close()
            return figures
        finally:
            if server:
                server.stop()
