"""Monthly and yearly files built from the daily partitions, rebuilt when a day inside them changes.

A month is its days' rows with a `date` column (the local day, as in the Hive
partition name), sorted by the row key (ids, then date and hour), so that a
reader looking for one unit or school skips most row groups by their statistics.
A year is its months in order, streamed month by month (memory: one month).
Files are zstd Parquet with row groups of `ROW_GROUP_ROWS` rows, column
statistics, a page index and the sort order declared, keeping the daily files'
column descriptions; a CSV copy is written when the period has at most
`CSV_MAX_ROWS` rows.

Each file's manifest entry carries `sources`, a digest of the SHA-256 of the
files it was built from; `refresh` rebuilds exactly the periods whose sources
changed (a re-exported day changes its month and its year).
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from iotorino.export import layout, provenance
from iotorino.export.parquet import _csv_value

log = logging.getLogger(__name__)

ROW_GROUP_ROWS = 100_000  # ~1-4 MB compressed per group for the hourly datasets: cheap to fetch by range
CSV_MAX_ROWS = 2_000_000  # above this, Parquet only (a CSV would pass 500 MB)
DATE_COLUMN = pa.field("date", pa.date32(), metadata={"description": "Local day (Europe/Rome) the row belongs to."})


def refresh(out_dir: Path | str, dataset: str) -> list[Path]:
    """Rebuild the dataset's monthly and yearly files whose days changed; return the files written."""
    out_dir = Path(out_dir)
    days = layout.days(out_dir, dataset)
    written: list[Path] = []
    months = sorted({layout.month_of(d) for d in days})
    for month in months:
        inside = [d for d in days if month.contains(d)]
        sources = [layout.file_path(out_dir, dataset, layout.parse_period(d.isoformat()), "parquet") for d in inside]
        written += _rebuild_if_changed(out_dir, dataset, month, sources, _build_month)
    for year in sorted({layout.year_of(d) for d in days}):
        sources = [layout.file_path(out_dir, dataset, m, "parquet") for m in months if year.contains(m.first)]
        written += _rebuild_if_changed(out_dir, dataset, year, sources, _build_year)
    return written


def sources_digest(out_dir: Path, sources: list[Path], manifest: dict) -> str:
    """Digest of the sources' checksums (from the manifest when listed, else read from the file)."""
    digest = hashlib.sha256()
    for path in sources:
        entry = manifest["files"].get(path.relative_to(out_dir).as_posix())
        digest.update(f"{path.relative_to(out_dir).as_posix()} {entry['sha256'] if entry else provenance.sha256_of(path)}\n".encode())
    return digest.hexdigest()


def _rebuild_if_changed(out_dir: Path, dataset: str, period: layout.Period, sources: list[Path], build) -> list[Path]:
    with provenance.locked(out_dir, dataset) as manifest:
        digest = sources_digest(out_dir, sources, manifest)
        target = layout.file_path(out_dir, dataset, period, "parquet")
        entry = manifest["files"].get(target.relative_to(out_dir).as_posix())
        if entry and entry.get("sources") == digest and target.is_file():
            return []
        rows = build(sources, target, {"iotorino:dataset": dataset, "iotorino:period": period.text})
        now = provenance.utc_now()
        written = [target]
        provenance.update_file(manifest, out_dir, target, provenance.file_entry(out_dir, target, period.text, "parquet", rows, now, sources=digest))
        csv_target = layout.file_path(out_dir, dataset, period, "csv")
        if rows <= CSV_MAX_ROWS:
            _write_csv(target, csv_target)
            provenance.update_file(manifest, out_dir, csv_target, provenance.file_entry(out_dir, csv_target, period.text, "csv", rows, now, sources=digest))
            written.append(csv_target)
        else:
            manifest["files"].pop(csv_target.relative_to(out_dir).as_posix(), None)
            csv_target.unlink(missing_ok=True)
        log.info("%s %s: %d rows from %d files", dataset, period.text, rows, len(sources))
        return written


def sort_order(schema: pa.Schema) -> list[str]:
    """Row order inside a month: the ids, then the local day, then the hour."""
    ids = [k for k in provenance.key_columns(schema) if k != provenance.TIME_KEY]
    return ids + ["date"] + ([provenance.TIME_KEY] if provenance.TIME_KEY in schema.names else [])


def _build_month(days: list[Path], target: Path, metadata: dict[str, str]) -> int:
    tables = [_with_date(pq.read_table(p), date.fromisoformat(p.parent.name.removeprefix("date="))) for p in days]
    table = pa.concat_tables(tables, promote_options="permissive")
    order = sort_order(table.schema)
    table = table.sort_by([(k, "ascending") for k in order])
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **{k.encode(): v.encode() for k, v in metadata.items()}})
    table = _drop_day_metadata(table)
    with _writer(target, table.schema, order) as writer:
        writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
    return table.num_rows


def _build_year(months: list[Path], target: Path, metadata: dict[str, str]) -> int:
    schema = pq.read_schema(months[-1])
    schema = schema.with_metadata({**(schema.metadata or {}), **{k.encode(): v.encode() for k, v in metadata.items()}})
    order = sort_order(schema)  # holds within each row group: a group never spans two months
    rows = 0
    with _writer(target, schema, order) as writer:
        for month in months:
            table = pq.read_table(month).cast(schema)  # one month in memory at a time
            writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            rows += table.num_rows
    return rows


class _writer:
    """A Parquet writer to a temporary name beside `target`, renamed into place on success."""

    def __init__(self, target: Path, schema: pa.Schema, order: list[str]) -> None:
        self.target = target
        self.tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        target.parent.mkdir(parents=True, exist_ok=True)
        sorting = [pq.SortingColumn(schema.get_field_index(name)) for name in order if name in schema.names]
        self.writer = pq.ParquetWriter(
            self.tmp, schema, compression="zstd", write_statistics=True, write_page_index=True,
            sorting_columns=sorting or None, coerce_timestamps="ms", allow_truncated_timestamps=False,
        )

    def __enter__(self) -> pq.ParquetWriter:
        return self.writer

    def __exit__(self, kind, value, traceback) -> None:
        try:
            self.writer.close()
            if kind is None:
                os.replace(self.tmp, self.target)
        finally:
            self.tmp.unlink(missing_ok=True)


def _with_date(table: pa.Table, day: date) -> pa.Table:
    return table.add_column(0, DATE_COLUMN, pa.array([day] * table.num_rows, pa.date32()))


def _drop_day_metadata(table: pa.Table) -> pa.Table:
    """The per-day key `iotorino:date` does not describe a month (the `date` column does)."""
    meta = {k: v for k, v in (table.schema.metadata or {}).items() if k != b"iotorino:date"}
    return table.replace_schema_metadata(meta)


def _write_csv(parquet_path: Path, target: Path) -> None:
    """CSV copy of a Parquet file, streamed by record batch, formatted like the daily CSV copies."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    source = pq.ParquetFile(parquet_path)
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(source.schema_arrow.names)
            for batch in source.iter_batches(batch_size=50_000):
                writer.writerows(zip(*(_csv_column(column) for column in batch.columns)))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _csv_column(array: pa.Array) -> list:
    """A column's CSV values, as the daily copies write them (`parquet._csv_value`), vectorised where it is safe.

    The csv module already writes numbers, strings, booleans and dates as the
    daily copies do, and None as empty; UTC timestamps on whole seconds are
    formatted by Arrow (ISO 8601 with +00:00), anything else value by value.
    """
    if pa.types.is_timestamp(array.type) and array.type.tz in ("UTC", "+00:00"):
        seconds = pc.cast(array, pa.int64()).to_numpy(zero_copy_only=False)
        per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[array.type.unit]
        valid = array.is_valid().to_numpy(zero_copy_only=False)
        if not (seconds[valid] % per_second).any():
            whole = pc.cast(array, pa.timestamp("s", tz="UTC"))  # exact: no sub-second part (checked above)
            text = pc.binary_join_element_wise(pc.strftime(whole, format="%Y-%m-%dT%H:%M:%S"), "+00:00", "")
            return text.to_pylist()
    if pa.types.is_timestamp(array.type) or pa.types.is_binary(array.type):
        return [_csv_value(v) if v is not None else None for v in array.to_pylist()]
    return array.to_pylist()
