"""Benchmark (not a test): a year of open data — building the monthly and yearly files, and serving the yearly file.

1. Writes a year of daily partitions shaped like `air_quality_hourly` for the
   whole street fleet (500 units × 24 h = 12,000 rows a day; one synthetic day
   with times shifted and values redrawn per calendar day) with the exports'
   own writers, then runs
   `refresh_rollups` in a subprocess: wall time and peak RSS. Baseline from the
   same run: reading every daily file once (`pq.read_table`) in a subprocess.
   Repeat for each street dataset with `--datasets 3` (air, noise and weather
   have the same shape; the school datasets are smaller).
2. Serves the yearly Parquet file with `iotorino web` (uvicorn, a subprocess):
   full downloads (throughput, median of `--repeat`) and one partial read by
   pyarrow over fsspec (bytes fetched); the server's peak RSS (VmHWM) against
   its idle RSS after start-up. Baseline throughput: reading the file from disk.

    .venv/bin/python -m benchmarks opendata [--units 500] [--days 365] [--repeat 3]
    .venv/bin/python benchmarks/opendata.py [--units 500] [--days 365] [--repeat 3] [--datasets 1]   # alone
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from benchmarks.report import Figure, now, table  # noqa: E402
from iotorino.export import parquet, provenance  # noqa: E402
from iotorino.services import free_port  # noqa: E402
from tests.export.published import hourly_columns, hourly_rows  # noqa: E402

STREET = ("air_quality_hourly", "noise_hourly", "weather_hourly")
CHILD = """
import resource, sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
began = time.monotonic()
{body}
print(time.monotonic() - began, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def child(body: str) -> tuple[float, int]:
    """Run `body` in a fresh interpreter: (seconds, peak RSS bytes)."""
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), body=body)], capture_output=True, text=True, check=True)
    seconds, rss = out.stdout.split()[-2:]
    return float(seconds), int(rss)


def write_year(out: Path, dataset: str, first: date, days: int, units: tuple[str, ...]) -> float:
    """Daily partitions (and provenance) for `days` days from `first`; returns seconds spent.

    One day's rows are built once; each later day shifts its times and draws new
    values (normal noise, seeded) so that files compress like real measurements.
    """
    import numpy as np
    import pyarrow as pa

    began = time.monotonic()
    base = parquet.build_table(hourly_columns(), hourly_rows(first, units))
    rng = np.random.default_rng(1)
    floats = [i for i, f in enumerate(base.schema) if pa.types.is_floating(f.type)]
    times = [base.schema.get_field_index(n) for n in ("date_observed_from", "date_observed_to")]
    for i in range(days):
        day = first + timedelta(days=i)
        table = base
        for index in floats:
            values = base.column(index).to_numpy() * rng.normal(1.0, 0.15, base.num_rows)
            table = table.set_column(index, base.schema.field(index), pa.array(np.round(values, 2)))
        for index in times:
            shifted = pa.array(base.column(index).to_numpy() + np.timedelta64(i, "D"), type=base.schema.field(index).type)
            table = table.set_column(index, base.schema.field(index), shifted)
        table = table.replace_schema_metadata({**base.schema.metadata, b"iotorino:date": day.isoformat().encode()})
        path = parquet.write_partition(table, out, dataset, day)
        provenance.record_day(out, dataset, day, None, table, {"parquet": path, "csv": None}, "benchmark")
    return time.monotonic() - began


def vm_kib(pid: int, key: str) -> int:
    """A `VmRSS`/`VmHWM` line of /proc/PID/status, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def serve(out: Path, dataset: str, year: int, repeat: int) -> dict:
    """Download the yearly file `repeat` times from `iotorino web`; throughput, partial read and server memory."""
    import fsspec
    import pyarrow.parquet as pq

    target = out / dataset / "yearly" / f"{dataset}_{year}.parquet"
    size = target.stat().st_size
    began = time.monotonic()
    with open(target, "rb") as fh:
        while fh.read(1 << 20):
            pass
    disk_mb_s = size / 1e6 / (time.monotonic() - began)
    port = free_port()
    env = dict(os.environ, IOTORINO_EXPORT_DIR=str(out), PYTHONPATH=str(ROOT))
    log = out / "web.log"
    with open(log, "wb") as sink:
        server = subprocess.Popen([sys.executable, "-m", "iotorino", "web", "--port", str(port)], env=env,
                                  stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/dati/{dataset}/{year}.parquet"
    try:
        deadline = time.monotonic() + 300  # a crowded machine starts the app slowly
        while True:
            try:
                requests.head(url, timeout=5)
                break
            except requests.ConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"iotorino web did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.2)
        idle = vm_kib(server.pid, "VmRSS")
        speeds = []
        for _ in range(repeat):
            began, received = time.monotonic(), 0
            with requests.get(url, stream=True, timeout=60) as response:
                for chunk in response.iter_content(1 << 20):
                    received += len(chunk)
            assert received == size
            speeds.append(size / 1e6 / (time.monotonic() - began))
        fs = fsspec.filesystem("http")
        with fs.open(url, block_size=64 * 1024, cache_type="bytes") as remote:
            parquet_file = pq.ParquetFile(remote)
            parquet_file.read_row_group(0, columns=["unit_id", "pm10_mean"])
            fetched = remote.cache.total_requested_bytes
        peak = vm_kib(server.pid, "VmHWM")
    finally:
        server.terminate()
        server.wait(15)
    return {"size": size, "speeds": speeds, "disk": disk_mb_s, "idle_kib": idle, "peak_kib": peak, "fetched": fetched,
            "groups": parquet_file.metadata.num_row_groups}


def run(units: int = 500, days: int = 365, repeat: int = 3, datasets: int = 1) -> list[Figure]:
    """Both parts, printed as they go; the figures for `python -m benchmarks opendata`."""
    unit_ids = tuple(f"TO-SU-{i:04d}" for i in range(1, units + 1))
    first = date(2025, 1, 1)
    out_figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="iotorino-opendata-bench-") as tmp:
        out = Path(tmp)
        for dataset in STREET[:datasets]:
            wrote = write_year(out, dataset, first, days, unit_ids)
            rows = units * 24 * days
            print(f"{dataset}: {days} daily partitions, {rows:,} rows, written in {wrote:.1f} s")
            read_s, read_rss = child(
                f"import pyarrow.parquet as pq\nfor p in sorted(Path({str(out / dataset / 'data')!r}).glob('date=*/part-0.parquet')):\n    pq.read_table(p)")
            build_s, build_rss = child(f"from iotorino.export import refresh_rollups\nrefresh_rollups(Path({str(out)!r}), {dataset!r})")
            yearly = out / dataset / "yearly" / f"{dataset}_{first.year}.parquet"
            print(f"  monthly + yearly files: {build_s:.1f} s, peak RSS {build_rss / 1e6:.0f} MB "
                  f"(baseline: reading every day once {read_s:.1f} s, {read_rss / 1e6:.0f} MB; ratios {build_s / read_s:.1f}x, "
                  f"{build_rss / read_rss:.1f}x); yearly file {yearly.stat().st_size / 1e6:.0f} MB")
            out_figures += [
                Figure(f"opendata: monthly + yearly files of {dataset}, {days} days x {units} units", build_s, "s",
                       read_s, "reading every day once", note=f"{rows:,} rows; yearly file {yearly.stat().st_size / 1e6:.0f} MB"),
                Figure(f"opendata: peak memory building them ({dataset})", build_rss / 1e6, "MB", read_rss / 1e6,
                       "reading every day once"),
            ]
        figures = serve(out, STREET[0], first.year, repeat)
        median = statistics.median(figures["speeds"])
        print(f"serving the yearly Parquet ({figures['size'] / 1e6:.0f} MB, {figures['groups']} row groups), {repeat} downloads: "
              f"median {median:.0f} MB/s (runs {', '.join(f'{s:.0f}' for s in figures['speeds'])}; baseline disk read "
              f"{figures['disk']:.0f} MB/s, ratio {median / figures['disk']:.2f})")
        print(f"  server RSS: idle {figures['idle_kib'] / 1024:.0f} MB, peak {figures['peak_kib'] / 1024:.0f} MB "
              f"(+{(figures['peak_kib'] - figures['idle_kib']) / 1024:.0f} MB while streaming a {figures['size'] / 1e6:.0f} MB file)")
        print(f"  partial read (one row group, two columns) over HTTP ranges: {figures['fetched'] / 1e6:.1f} MB fetched "
              f"of {figures['size'] / 1e6:.0f} MB ({figures['fetched'] / figures['size']:.1%})")
        out_figures += [
            Figure(f"opendata: serving the yearly file ({figures['size'] / 1e6:.0f} MB), median of {repeat}", median, "MB/s",
                   figures["disk"], "disk read", lower_is_better=False,
                   note=f"runs {', '.join(f'{s:.0f}' for s in figures['speeds'])} MB/s"),
            Figure("opendata: server memory while streaming it", figures["peak_kib"] / 1024, "MB",
                   figures["idle_kib"] / 1024, "idle after start-up"),
            Figure("opendata: partial read (one row group, two columns) over HTTP ranges", figures["fetched"] / 1e6, "MB",
                   figures["size"] / 1e6, "the whole file"),
        ]
    return out_figures


def main() -> int:
    """Run both parts and print the figures with their baselines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--datasets", type=int, default=1, choices=(1, 2, 3))
    args = parser.parse_args()
    started = now()
    figures = run(args.units, args.days, args.repeat, args.datasets)
    print(table(figures, started))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
