"""Reading the store with InfluxQL in bounded time chunks, so memory stays flat over any period.

InfluxQL is the query language InfluxDB 1.x, 2.x (via /query) and 3.x share.
Every function here issues one query per time chunk and yields rows as they
come; nothing holds more than one chunk's answer. Series that differ only in
tags outside `group_tags` (such as `time_source=receive`) are merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

from iotorino.export.window import HOUR_NS
from iotorino.core.store.influx_v1 import InfluxV1Client

STATS = ("mean", "min", "max", "count")


@dataclass(frozen=True)
class Row:
    """One answer row: `time_ns`, the group's `tags`, and `values` by column name."""

    time_ns: int
    tags: Mapping[str, str]
    values: Mapping[str, float | int | None]


def chunks(start_ns: int, end_ns: int, chunk_hours: int) -> Iterator[tuple[int, int]]:
    """[start, end) cut into consecutive windows of at most `chunk_hours` hours."""
    step = chunk_hours * HOUR_NS
    at = start_ns
    while at < end_ns:
        yield at, min(at + step, end_ns)
        at += step


def stats_select(fields: Sequence[str], stats: Sequence[str]) -> str:
    """`stat("field") AS "field_stat", ...` for every field and statistic."""
    return ", ".join(f'{stat}("{f}") AS "{f}_{stat}"' for f in fields for stat in stats)


def select(
    client: InfluxV1Client,
    measurement: str,
    columns: str,
    group_tags: Sequence[str],
    start_ns: int,
    end_ns: int,
    *,
    where: str = "",
    hourly: bool = False,
) -> Iterator[Row]:
    """`SELECT columns FROM measurement` over [start, end) grouped by `group_tags` (and by hour if `hourly`)."""
    group = ", ".join(["time(1h)"] * hourly + [f'"{t}"' for t in group_tags])
    q = f'SELECT {columns} FROM "{measurement}" WHERE time >= {start_ns} AND time < {end_ns}'
    q += f" AND ({where})" if where else ""
    q += f" GROUP BY {group}" + (" fill(none)" if hourly else "")
    yield from rows(client.query(q, epoch="ns"))


def rows(series: list[dict]) -> Iterator[Row]:
    """The rows of a /query answer's `series` list."""
    for s in series:
        tags = s.get("tags") or {}
        names = s["columns"]
        for values in s["values"]:
            yield Row(int(values[0]), tags, dict(zip(names[1:], values[1:])))


def hourly_stats(
    client: InfluxV1Client,
    measurement: str,
    fields: Sequence[str],
    group_tags: Sequence[str],
    start_ns: int,
    end_ns: int,
    *,
    chunk_hours: int = 6,
) -> Iterator[Row]:
    """Per UTC hour and tag group: mean, min, max and count of each field (`{field}_{stat}`).

    Hours without any value are absent (`fill(none)`), never zero.
    """
    columns = stats_select(fields, STATS)
    for lo, hi in chunks(start_ns, end_ns, chunk_hours):
        yield from select(client, measurement, columns, group_tags, lo, hi, hourly=True)


def raw_points(
    client: InfluxV1Client,
    measurement: str,
    fields: Sequence[str],
    group_tags: Sequence[str],
    start_ns: int,
    end_ns: int,
    *,
    chunk_hours: int = 1,
) -> Iterator[Row]:
    """Every stored point of `fields` in [start, end), grouped by `group_tags`, chunk by chunk in time order."""
    columns = ", ".join(f'"{f}"' for f in fields)
    for lo, hi in chunks(start_ns, end_ns, chunk_hours):
        yield from select(client, measurement, columns, group_tags, lo, hi)


def edge_points(
    client: InfluxV1Client,
    measurement: str,
    field: str,
    group_tags: Sequence[str],
    start_ns: int,
    end_ns: int,
    reach_ns: int,
) -> tuple[list[Row], list[Row]]:
    """The last value of `field` per group in [start - reach, start) and the first in [end, end + reach).

    They bound the intervals that cross the window's edges (cumulative registers).
    """
    before = select(client, measurement, f'last("{field}") AS "{field}"', group_tags, start_ns - reach_ns, start_ns)
    after = select(client, measurement, f'first("{field}") AS "{field}"', group_tags, end_ns, end_ns + reach_ns)
    return list(before), list(after)


def count_outside(
    client: InfluxV1Client,
    measurement: str,
    low_high: tuple[float, float],
    fields: Sequence[str],
    group_tags: Sequence[str],
    start_ns: int,
    end_ns: int,
    chunk_hours: int,
) -> Iterator[Row]:
    """Per tag group and chunk: how many values of each field lie outside [low, high] (`{field}__outside`)."""
    low, high = low_high
    for f in fields:
        for lo, hi in chunks(start_ns, end_ns, chunk_hours):
            yield from select(
                client, measurement, f'count("{f}") AS "{f}__outside"', group_tags, lo, hi,
                where=f'"{f}" < {low!r} OR "{f}" > {high!r}',
            )


def last_times(
    client: InfluxV1Client,
    measurement: str,
    fields: Sequence[str],
    group_tags: Sequence[str],
    start_ns: int,
    end_ns: int,
) -> Iterator[Row]:
    """Per tag group, the time of the last value of each of `fields` in [start, end) (one row per field)."""
    for f in fields:
        yield from select(client, measurement, f'last("{f}")', group_tags, start_ns, end_ns)
