"""Parquet partitions: zstd, UTC timestamps, column descriptions and units in the key-value metadata.

A dataset lives in `OUT/<dataset>/data/date=YYYY-MM-DD/part-0.parquet` (Hive-style,
one partition per local day: the unit of export and of re-export). A partition
is written beside its final name and renamed into place, so a re-run replaces it
atomically and readers see either the old file or the new one, never both.
"""

from __future__ import annotations

import csv
import json
import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Mapping, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from iotorino.export.columns import Column

PART_NAME = "part-0.parquet"
# Datasets up to this many rows per day also get a CSV copy.
CSV_MAX_ROWS = 250_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def build_table(columns: Sequence[Column], data: Mapping[str, list], extra_metadata: Mapping[str, str] = {}) -> pa.Table:
    """An Arrow table with each column's description and unit in field metadata and in file metadata.

    Timestamp data is given as UTC epoch nanoseconds and stored in milliseconds.
    """
    arrays, fields = [], []
    for col in columns:
        values = data[col.name]
        if pa.types.is_timestamp(col.type):
            values = [None if v is None else v // 1_000_000 for v in values]
        arrays.append(pa.array(values, type=col.type))
        meta = {"description": col.description}
        if col.unit:
            meta["unit"] = col.unit
        fields.append(pa.field(col.name, col.type, metadata=meta))
    described = {c.name: {"description": c.description, "unit": c.unit} for c in columns}
    schema_meta = {"iotorino:columns": json.dumps(described, ensure_ascii=False), **extra_metadata}
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=schema_meta))


def partition_dir(out_dir: Path, dataset: str, day: date) -> Path:
    """`OUT/<dataset>/data/date=YYYY-MM-DD`."""
    return Path(out_dir) / dataset / "data" / f"date={day.isoformat()}"


def write_partition(table: pa.Table, out_dir: Path, dataset: str, day: date) -> Path:
    """Write `table` as the day's partition, replacing any earlier one atomically; return its path."""
    target = partition_dir(out_dir, dataset, day) / PART_NAME
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{PART_NAME}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd", coerce_timestamps="ms", allow_truncated_timestamps=False)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def write_csv_copy(table: pa.Table, out_dir: Path, dataset: str, day: date) -> Path | None:
    """A CSV copy of the day (`OUT/<dataset>/csv/<dataset>_YYYY-MM-DD.csv`) when it is small enough."""
    if table.num_rows > CSV_MAX_ROWS:
        return None
    target = Path(out_dir) / dataset / "csv" / f"{dataset}_{day.isoformat()}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(table.column_names)
            writer.writerows(zip(*(_csv_column(column) for column in table.columns)))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _csv_column(column: pa.ChunkedArray) -> list:
    """One column's CSV cells, column at a time: what `_csv_value` gives each of its values, row by row.

    Timestamps are formatted once per distinct instant (hourly datasets repeat the
    same few dozen); None is written by the csv module as an empty cell.
    """
    if pa.types.is_timestamp(column.type):
        millis = column.cast(pa.int64()).to_pylist()
        if column.type.unit != "ms" or column.type.tz != "UTC":
            return [_csv_value(v) for v in column.to_pylist()]
        seen: dict[int, str] = {}
        return [None if ms is None else seen.get(ms) or seen.setdefault(ms, _utc_iso(ms)) for ms in millis]
    values = column.to_pylist()
    if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
        return [None if v is None else v.hex() for v in values]
    return values


def _utc_iso(ms: int) -> str:
    return (_EPOCH + timedelta(milliseconds=ms)).isoformat()


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value
