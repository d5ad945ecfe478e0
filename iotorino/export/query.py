"""Reading the store with InfluxQL in bounded time chunks, so memory stays flat over any period.

InfluxQL is the query language InfluxDB 1.x, 2.x (via /query) and 3.x share.
Every function here issues one query per chunk of `chunk_hours` and yields
rows as they come; nothing holds more than one chunk's answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Mapping, Sequence

from iotorino.export.window import HOUR_NS
from iotorino.store.influx_v1 import InfluxV1Client

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

    Hours without any value are absent (`fill(none)`), never zero. Series that
    differ only in tags outside `group_tags` (such as `time_source`) are merged.
    """
    select = ", ".join(f'{stat}("{f}") AS "{f}_{stat}"' for f in fields for stat in STATS)
    group = ", ".join(f'"{t}"' for t in group_tags)
    for lo, hi in chunks(start_ns, end_ns, chunk_hours):
        q = (
            f'SELECT {select} FROM "{measurement}" WHERE time >= {lo} AND time < {hi} '
            f"GROUP BY time(1h), {group} fill(none)"
        )
        yield from _rows(client.query(q, epoch="ns"))


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
    select = ", ".join(f'"{f}"' for f in fields)
    group = ", ".join(f'"{t}"' for t in group_tags)
    for lo, hi in chunks(start_ns, end_ns, chunk_hours):
        q = f'SELECT {select} FROM "{measurement}" WHERE time >= {lo} AND time < {hi} GROUP BY {group}'
        yield from _rows(client.query(q, epoch="ns"))


def _rows(series: list[dict]) -> Iterator[Row]:
    for s in series:
        tags = s.get("tags") or {}
        columns = s["columns"]
        for values in s["values"]:
            yield Row(int(values[0]), tags, dict(zip(columns[1:], values[1:])))


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
    group = ", ".join(f'"{t}"' for t in group_tags)
    before = client.query(
        f'SELECT last("{field}") AS "{field}" FROM "{measurement}" '
        f"WHERE time >= {start_ns - reach_ns} AND time < {start_ns} GROUP BY {group}",
        epoch="ns",
    )
    after = client.query(
        f'SELECT first("{field}") AS "{field}" FROM "{measurement}" '
        f"WHERE time >= {end_ns} AND time < {end_ns + reach_ns} GROUP BY {group}",
        epoch="ns",
    )
    return list(_rows(before)), list(_rows(after))
