"""Benchmark (not a test): the whole daily export of one full simulated city day.

Loads one simulated local day — every street unit and school at its profile's
reporting interval, from the simulator through the MQTT pipeline's decoder —
into a private influxd, then runs `iotorino export all --date DAY` in a
subprocess several times and prints the median wall time, the peak memory
(max RSS of the export process) and their ratios to the targets (60 s, 1.5 GB).

    .venv/bin/python benchmarks/export_day.py [--date 2026-11-21] [--repeat 3] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest.mqtt import config as collector_config  # noqa: E402
from ingest.mqtt.app import build_pipeline  # noqa: E402
from iotorino.core import catalogue, inventory  # noqa: E402
from iotorino.core.errors import Rejected  # noqa: E402
from iotorino.export.window import local_day  # noqa: E402
from iotorino.services import Influxd  # noqa: E402
from iotorino.simulate import iter_messages  # noqa: E402
from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings  # noqa: E402

TARGET_S = 60.0
TARGET_BYTES = 1.5e9
BATCH = 5_000


def load_day(client: InfluxV1Client, day: date, seed: int) -> tuple[int, int, float]:
    """Simulate the local day (plus an hour either side) into the store: (messages, readings, seconds)."""
    window = local_day(day)
    start, end = window.start - timedelta(hours=1), window.end + timedelta(hours=1)
    pipeline = build_pipeline(collector_config.from_dict({"subscriptions": [{"topic": "iotorino/v1/#", "format": "native"}]}))
    began = time.monotonic()
    messages = readings = 0
    batch = []
    for message in iter_messages(inventory.default(), catalogue.default(), start, end, seed):
        messages += 1
        try:
            batch += pipeline.process(message.topic, message.payload, time.time_ns())
        except Rejected:
            continue
        if len(batch) >= BATCH:
            client.write(batch)
            readings += len(batch)
            batch = []
    client.write(batch)
    return messages, readings + len(batch), time.monotonic() - began


def export_once(env: dict[str, str], day: date, out: Path) -> tuple[float, int]:
    """One `iotorino export all` run: (wall seconds, max RSS bytes of that process)."""
    began = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "iotorino", "export", "all", "--date", day.isoformat(), "--out", str(out), "--no-progress"],
        env=env, stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - began
    if proc.returncode != 0:
        raise SystemExit(f"export failed with exit code {proc.returncode}")
    return wall, usage.ru_maxrss * 1024  # Linux reports KiB


def main() -> int:
    """Load, export `--repeat` times, print medians and ratios to the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=date.fromisoformat, default=date(2026, 11, 21))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="iotorino-bench-") as tmp:
        server = Influxd(Path(tmp) / "influxd").start()
        try:
            settings = InfluxV1Settings(url=server.url, database="iotorino")
            client = InfluxV1Client(settings)
            client.create_database()
            messages, readings, load_s = load_day(client, args.date, args.seed)
            print(f"loaded {messages:,} messages -> {readings:,} readings in {load_s:.1f} s")
            env = dict(os.environ, PYTHONPATH=str(ROOT), IOTORINO_INFLUX_URL=server.url, IOTORINO_INFLUX_DB="iotorino")
            walls, peaks = [], []
            for i in range(args.repeat):
                wall, peak = export_once(env, args.date, Path(tmp) / "exports")
                walls.append(wall)
                peaks.append(peak)
                print(f"run {i + 1}: {wall:.1f} s, peak {peak / 1e6:.0f} MB")
        finally:
            server.stop()
    wall, peak = statistics.median(walls), max(peaks)
    print(f"median wall time {wall:.1f} s  (target < {TARGET_S:.0f} s: ratio {wall / TARGET_S:.2f})")
    print(f"peak memory      {peak / 1e6:.0f} MB  (target < {TARGET_BYTES / 1e9:.1f} GB: ratio {peak / TARGET_BYTES:.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
