"""Hourly aggregate rows from the store's per-hour statistics: pure functions, no I/O.

Each row is one device and one hour: for every field its mean, min, max and
count, and a completeness share (values received ÷ values the device's profile
should send in an hour). An hour with no data has no row, never a zero.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from iotorino.export.query import STATS, Row
from iotorino.export.window import HOUR_NS, DayWindow, local_label

from iotorino.export.expected import IntervalLookup


def completeness(count: int, interval_s: int | None) -> float | None:
    """Share of the hour's expected values that arrived, capped at 1; None if the interval is unknown."""
    if not interval_s or interval_s <= 0:
        return None
    expected = 3600 / interval_s
    return min(1.0, count / expected)


def hourly_rows(
    rows: Iterable[Row],
    window: DayWindow,
    fields: Sequence[str],
    tag_columns: Mapping[str, str],
    interval_s: IntervalLookup,
) -> dict[str, list]:
    """Column lists for an hourly dataset, sorted by device tags then hour.

    `tag_columns` maps store tag → output column (e.g. unit → unit_id);
    `interval_s` gives a tag group's reporting interval (for completeness).
    Rows outside `window` are dropped (a chunk never spans further, but be safe).
    """
    kept = [r for r in rows if window.start_ns <= r.time_ns < window.end_ns]
    kept.sort(key=lambda r: (tuple(r.tags.get(t, "") for t in tag_columns), r.time_ns))
    columns: dict[str, list] = {c: [] for c in tag_columns.values()}
    columns.update(date_observed_from=[], date_observed_to=[], local_time_from=[])
    for f in fields:
        for stat in STATS:
            columns[f"{f}_{stat}"] = []
    columns["completeness"] = []
    for r in kept:
        for tag, column in tag_columns.items():
            columns[column].append(r.tags.get(tag) or None)
        columns["date_observed_from"].append(r.time_ns)
        columns["date_observed_to"].append(r.time_ns + HOUR_NS)
        columns["local_time_from"].append(local_label(r.time_ns))
        most = 0
        for f in fields:
            count = int(r.values.get(f"{f}_count") or 0)
            most = max(most, count)
            for stat in STATS:
                value = r.values.get(f"{f}_{stat}")
                columns[f"{f}_{stat}"].append(count if stat == "count" else (value if count else None))
        columns["completeness"].append(completeness(most, interval_s(r.tags)))
    return columns
