"""Export one dataset for one local day: query, aggregate, write the partition (and its CSV copy).

This is what the DAGs call and what `iotorino export` calls; it needs no Airflow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence

from iotorino.core.errors import ConfigError
from iotorino.export import dcat, expected, parquet, provenance, quality
from iotorino.export.query import chunks
from iotorino.export.datasets import ExportContext, registry
from iotorino.export.window import local_day
from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportResult:
    """What one export wrote: the Parquet `path`, its `rows`, the CSV copy (or None)."""

    dataset: str
    day: date
    path: Path
    rows: int
    csv_path: Path | None = None
    summary: str = ""  # a one-line summary for the task log (the quality report has one)


def dataset(name: str):
    """The registered dataset `name`; `ConfigError` listing the known ones otherwise."""
    known = registry()
    if name not in known:
        raise ConfigError("dataset", f"unknown dataset {name!r}", ", ".join(known))
    return known[name]


def run_export(
    name: str,
    day: date,
    settings: InfluxV1Settings,
    out_dir: Path | str,
    *,
    inventory: Any | None = None,
    client: InfluxV1Client | None = None,
    chunk_hours: int = 6,
    trigger: str = "manual",
) -> ExportResult:
    """Export dataset `name` for local day `day` from the store at `settings` into `out_dir`.

    Writes the day's Parquet partition, its CSV copy when small enough, and
    refreshes the dataset's `dcat.jsonld` and `dictionary.csv`.
    Re-running replaces the day's partition atomically. `inventory` defaults to
    the project's inventory (reporting intervals for completeness). `trigger`
    (who asked: the DAG run, the command line) goes into the change log when
    the day's content changed (see `iotorino.export.provenance`).
    """
    (result,) = run_day([name], day, settings, out_dir, inventory=inventory, client=client, chunk_hours=chunk_hours,
                        trigger=trigger)
    return result


def run_day(
    names: Sequence[str],
    day: date,
    settings: InfluxV1Settings,
    out_dir: Path | str,
    *,
    inventory: Any | None = None,
    client: InfluxV1Client | None = None,
    chunk_hours: int = 6,
    threads: int = 2,
    trigger: str = "manual",
) -> list[ExportResult]:
    """Export the datasets `names` for local day `day`, sharing one read of each measurement's hourly statistics.

    Datasets are built in `threads` threads (the store answers one while the next
    is parsed); results come back in the order of `names`. Each dataset's files are
    written exactly as `run_export` writes them.
    """
    chosen = [dataset(name) for name in names]
    window = local_day(day)
    own_client = client is None
    client = client or InfluxV1Client(settings)
    try:
        ctx = ExportContext(
            client, window, inventory if inventory is not None else expected.load_inventory(), chunk_hours, Path(out_dir)
        )
        if threads > 1 and len(chosen) > 1:
            with ThreadPoolExecutor(threads) as pool, ThreadPoolExecutor(threads) as reader:
                if any(ds.name == quality.DATASET for ds in chosen):
                    _read_ahead(ctx, reader)
                return list(pool.map(lambda ds: _export(ds, ctx, Path(out_dir), trigger), chosen))
        return [_export(ds, ctx, Path(out_dir), trigger) for ds in chosen]
    finally:
        if own_client:
            client.close()


def _read_ahead(ctx: ExportContext, reader: ThreadPoolExecutor) -> None:
    """Ask the store for every chunk the quality report will read (most of the day's points, shared with the
    hourly datasets) ahead of the builders, so InfluxDB produces the next chunks while Python reduces the last."""
    window = ctx.window
    for measurement, fields, tags in quality.shared_reads(ctx):
        for lo, hi in chunks(window.start_ns, window.end_ns, ctx.chunk_hours):
            reader.submit(ctx.points.read, measurement, fields, tags, lo, hi)


def _export(ds, ctx: ExportContext, out_dir: Path, trigger: str) -> ExportResult:
    day, window = ctx.window.day, ctx.window
    built = ds.build(ctx)
    meta = {"iotorino:dataset": ds.name, "iotorino:date": day.isoformat(), "iotorino:time_zone": "Europe/Rome"}
    table = parquet.build_table(built.columns, built.data, {**meta, **built.metadata})
    before = provenance.read_day(out_dir, ds.name, day)
    path = parquet.write_partition(table, out_dir, ds.name, day)
    csv_path = parquet.write_csv_copy(table, out_dir, ds.name, day)
    provenance.record_day(out_dir, ds.name, day, before, table, {"parquet": path, "csv": csv_path}, trigger)
    dcat.write_metadata(ds, built.columns, out_dir / ds.name)
    log.info("exported %s for %s: %d rows (%d hours) to %s", ds.name, day, table.num_rows, window.hours, path)
    summary = built.metadata.get("iotorino:summary", "")
    if summary:
        log.info("%s %s: %s", ds.name, day, summary)
    return ExportResult(ds.name, day, path, table.num_rows, csv_path, summary)
