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
    start_ns, end_ns = window.start_ns, window.end_ns  # properties: computed once, not per row
    kept = [r for r in rows if start_ns <= r.time_ns < end_ns]
    kept.sort(key=lambda r: (tuple(r.tags.get(t, "") for t in tag_columns), r.time_ns))
    columns: dict[str, list] = {c: [] for c in tag_columns.values()}
    columns.update(date_observed_from=[], date_observed_to=[], local_time_from=[])
    for f in fields:
        for stat in STATS:
            columns[f"{f}_{stat}"] = []
    columns["completeness"] = []
    # Keys and target lists resolved once, not per row (a city day is ~35,000 rows x 24 values).
    tags = [(tag, columns[column]) for tag, column in tag_columns.items()]
    per_field = [(f"{f}_count", [(f"{f}_{stat}", stat == "count", columns[f"{f}_{stat}"]) for stat in STATS])
                 for f in fields]
    starts, ends, labels = columns["date_observed_from"], columns["date_observed_to"], columns["local_time_from"]
    shares = columns["completeness"]
    label_of: dict[int, str] = {}
    for r in kept:
        for tag, column in tags:
            column.append(r.tags.get(tag) or None)
        starts.append(r.time_ns)
        ends.append(r.time_ns + HOUR_NS)
        label = label_of.get(r.time_ns)
        if label is None:
            label = label_of[r.time_ns] = local_label(r.time_ns)
        labels.append(label)
        most = 0
        values = r.values
        for count_key, stats in per_field:
            count = int(values.get(count_key) or 0)
            if count > most:
                most = count
            for key, is_count, column in stats:
                column.append(count if is_count else (values.get(key) if count else None))
        shares.append(completeness(most, interval_s(r.tags)))
    return columns
