"""Hourly statistics computed here from the raw points, exactly as InfluxDB 1.x computes them, in a fraction of the time.

Why: on InfluxDB 1.6, `SELECT mean(f), min(f), max(f), count(f) ... GROUP BY time(1h), tags`
runs one iterator per field and statistic and takes 4-7 times as long as reading
the same points raw (measured by `benchmarks`: the raw read is the export's floor).
So the points are read raw, as CSV (`Accept: application/csv`, parsed in C by
pyarrow), grouped by the same tags, and reduced here with the server's own rules:

- count: values present (a point without the field does not count);
- min / max: the smallest / largest value; InfluxDB's JSON writes -0 as `0`, so a
  zero is always +0.0 in the output, as before;
- mean: the float64 sum of the hour's values in time order, starting from 0.0, divided
  by the count — InfluxDB's FloatMeanReducer. Adding in any other order (numpy's
  pairwise `sum`, `math.fsum`) would change the last bit of some means, so the sums
  run position by position across all hours at once, each hour strictly in order;
- energetic mean (the `energetic` fields: sound levels, the catalogue's `average:
  energetic`): the same sum and division on the energies 10^(L/10), then back to dB,
  10·lg(mean(10^(L/10))) (`iotorino.export.means`); no server statistic matches it.

A row exists for an hour and tag group with at least one value (`fill(none)`).
Series that differ only in tags outside `group_tags` are merged in time order, as the
server merges them. Float fields only (every field the hourly exports aggregate).
`tests/export/test_golden.py` holds the result to the old server-side output, byte for byte.
"""

from __future__ import annotations

import io
from typing import Callable, Collection, Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from iotorino.core.store.influx_v1 import InfluxV1Client, parse_tags
from iotorino.export import means
from iotorino.export.query import STATS, Row, chunks
from iotorino.export.window import HOUR_NS


def hourly_stats(
    client: InfluxV1Client,
    measurement: str,
    fields: Sequence[str],
    group_tags: Sequence[str],
    start_ns: int,
    end_ns: int,
    *,
    chunk_hours: int = 6,
    read: Callable[[str, Sequence[str], Sequence[str], int, int], pa.Table | None] | None = None,
    energetic: Collection[str] = (),
) -> list[Row]:
    """Per UTC hour and tag group: `{field}_mean/_min/_max/_count`, as `query.hourly_stats` answers them.

    `start_ns` must fall on a UTC hour (local days in Europe/Rome do); one request per chunk.
    `read(measurement, fields, group_tags, lo, hi)` gives a chunk's points (default: `read_points`
    on `client`); it may answer more fields than asked, such as a day's shared read (`model.PointCache`).
    The `energetic` fields' means are energetic (module docstring), the others' arithmetic.
    """
    if start_ns % HOUR_NS:
        raise ValueError(f"start_ns {start_ns} is not on a UTC hour")
    read = read or (lambda *args: read_points(client, *args))
    out: list[Row] = []
    for lo, hi in chunks(start_ns, end_ns, chunk_hours):
        table = read(measurement, fields, group_tags, lo, hi)
        if table is not None:
            out += reduce_hours(table, fields, lo, energetic)
    return out


def read_points(
    client: InfluxV1Client, measurement: str, fields: Sequence[str], group_tags: Sequence[str], lo: int, hi: int
) -> pa.Table | None:
    """The raw points of `fields` in [lo, hi), grouped by `group_tags` (`parse_csv`'s table); None when there are none."""
    columns = ", ".join(f'"{f}"' for f in fields)
    group = ", ".join(f'"{t}"' for t in group_tags)
    q = f'SELECT {columns} FROM "{measurement}" WHERE time >= {lo} AND time < {hi}'
    body = client.query_csv(q + (f" GROUP BY {group}" if group else ""))
    return parse_csv(body, fields) if body.strip() else None


def point_rows(table: pa.Table, fields: Sequence[str]) -> Iterator[Row]:
    """The points of a parsed answer as `query.raw_points` yields them: one `Row` per point with any of `fields`.

    Values are floats (-0.0 as 0.0, as InfluxDB's JSON writes it) or None; a point with none of
    `fields` is left out, as the server leaves it out of a SELECT of those fields.
    """
    encoded = table["tags"].combine_chunks().dictionary_encode()
    names = [parse_tags(t) for t in encoded.dictionary.to_pylist()]
    groups = _numpy(encoded.indices, np.int32).tolist()
    times = _numpy(table["time"], np.int64).tolist()
    columns = []
    for f in fields:
        values, present = _floats(table[f])
        columns.append(np.where(present, (values + 0.0).astype(object), None).tolist())
    for i, values in enumerate(zip(*columns)):
        if any(v is not None for v in values):
            yield Row(times[i], names[groups[i]], dict(zip(fields, values)))


def parse_csv(body: bytes, fields: Sequence[str]) -> pa.Table:
    """An InfluxDB CSV answer as a table: `tags` (string), `time` (int64) and each field (float64, null when absent)."""
    types = {"name": pa.string(), "tags": pa.string(), "time": pa.int64(), **{f: pa.float64() for f in fields}}
    table = pacsv.read_csv(
        io.BytesIO(body),
        convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False),
    )
    for f in fields:  # a field the chunk never saw is not in the answer's columns
        if f not in table.column_names:
            table = table.append_column(f, pa.nulls(table.num_rows, pa.float64()))
    return table


def reduce_hours(table: pa.Table, fields: Sequence[str], start_ns: int, energetic: Collection[str] = ()) -> list[Row]:
    """Rows of (tag group, hour) statistics from a parsed answer whose points are grouped by tags, in time order.

    The `energetic` fields' means are energetic (module docstring), the others' arithmetic.
    """
    times = _numpy(table["time"], np.int64)
    encoded = table["tags"].combine_chunks().dictionary_encode()
    groups = _numpy(encoded.indices, np.int32).astype(np.int64)
    names = [parse_tags(t) for t in encoded.dictionary.to_pylist()]
    hours = (times - start_ns) // HOUR_NS
    key = groups * (int(hours.max()) + 1) + hours
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    lengths = np.diff(np.r_[starts, len(key)])
    keys: list[str] = []
    columns: list[np.ndarray] = []  # object arrays: Python ints, floats and None
    any_value = np.zeros(len(starts), dtype=bool)
    for f in fields:
        values, present = _floats(table[f])
        count = np.add.reduceat(present.astype(np.int64), starts)
        low = np.minimum.reduceat(np.where(present, values, np.inf), starts) + 0.0  # -0.0 -> 0.0
        high = np.maximum.reduceat(np.where(present, values, -np.inf), starts) + 0.0
        if f in energetic:  # sound levels: their energies add, then the mean energy goes back to dB
            total = sequential_sums(means.energies(np.where(present, values, -np.inf)), starts, lengths)
        else:
            total = sequential_sums(np.where(present, values, 0.0), starts, lengths)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / count + 0.0
        if f in energetic:
            mean = means.levels(mean) + 0.0
        empty = count == 0
        any_value |= ~empty
        for stat, column in zip(STATS, (mean, low, high, count)):
            keys.append(f"{f}_{stat}")
            if stat == "count":
                columns.append(column.astype(object))
            else:  # None where the hour has no value of the field, as the server answers
                columns.append(np.where(empty, None, column.astype(object)))
    kept = np.flatnonzero(any_value)
    row_groups, row_hours = groups[starts[kept]].tolist(), hours[starts[kept]].tolist()
    by_row = zip(*(column[kept].tolist() for column in columns))
    return [Row(start_ns + h * HOUR_NS, names[g], dict(zip(keys, values)))
            for g, h, values in zip(row_groups, row_hours, by_row)]


def _numpy(array: pa.Array | pa.ChunkedArray, dtype) -> np.ndarray:
    """The values of a null-free fixed-width array as numpy, straight from its buffer.

    (pyarrow's own `to_numpy` imports pandas: seconds of start-up for every export process.)
    """
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    size = np.dtype(dtype).itemsize
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * size)


def _floats(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """A float64 column as (values, present): null slots are False in `present` (their values are garbage)."""
    array = column.combine_chunks()
    values = _numpy(array, np.float64)
    bitmap = array.buffers()[0]
    if bitmap is None:
        return values, np.ones(len(array), dtype=bool)
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")
    return values, bits[array.offset : array.offset + len(array)].astype(bool)


def sequential_sums(values: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """For each segment [start, start + length) of `values`: ((0.0 + v0) + v1) + ..., strictly in order.

    Segments are sorted by length; step p adds the p-th value of every segment that
    is longer than p, so the work is one vectorised addition per position, not per value.
    """
    order = np.argsort(lengths, kind="stable")
    sorted_starts, sorted_lengths = starts[order], lengths[order]
    acc = np.zeros(len(starts))
    for p in range(int(sorted_lengths[-1]) if len(sorted_lengths) else 0):
        first = int(np.searchsorted(sorted_lengths, p, side="right"))
        acc[first:] += values[sorted_starts[first:] + p]
    out = np.empty_like(acc)
    out[order] = acc
    return out
