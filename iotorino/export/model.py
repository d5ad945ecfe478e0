"""The shapes a dataset builder takes and returns: `ExportContext` in, `Built` out."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from iotorino.export.columns import Column
from iotorino.export.query import Row
from iotorino.export.window import DayWindow
from iotorino.core.store.influx_v1 import InfluxV1Client


class HourlyStatsCache:
    """Hourly statistics per (measurement, fields, tags, window), read once and shared by the day's datasets.

    The hourly datasets and the quality report need the same statistics of the same
    measurements; datasets of one day may be built in parallel threads, so a key being
    read is waited for, not read twice.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple, tuple[threading.Lock, list[Row] | None]] = {}

    def get(self, key: tuple, compute) -> list[Row]:
        """The rows for `key`, from `compute()` the first time."""
        with self._lock:
            entry = self._entries.setdefault(key, (threading.Lock(), None))
        with entry[0]:
            rows = self._entries[key][1]
            if rows is None:
                rows = compute()
                self._entries[key] = (entry[0], rows)
            return rows


@dataclass
class ExportContext:
    """What a dataset builder may use: the store `client`, the day `window`, the `inventory` (or None),
    and `out_dir`, where earlier partitions of other datasets may be read (or None)."""

    client: InfluxV1Client
    window: DayWindow
    inventory: Any | None
    chunk_hours: int = 6
    out_dir: Path | None = None
    cache: HourlyStatsCache = field(default_factory=HourlyStatsCache, repr=False)

    def hourly_stats(self, measurement: str, fields: Sequence[str], group_tags: Sequence[str]) -> list[Row]:
        """`{field}_mean/_min/_max/_count` per UTC hour and tag group over the day (float fields; see rawstats).

        Each field's mean follows its catalogue `average` rule: energetic for sound levels, else arithmetic.
        """
        from iotorino.core import catalogue
        from iotorino.export import rawstats

        key = (measurement, tuple(fields), tuple(group_tags), self.window.start_ns, self.window.end_ns)
        return self.cache.get(key, lambda: rawstats.hourly_stats(
            self.client, measurement, fields, group_tags, self.window.start_ns, self.window.end_ns,
            chunk_hours=self.chunk_hours, energetic=catalogue.default().energetic_fields(measurement),
        ))


@dataclass(frozen=True)
class Built:
    """A built day: `columns` specs, `data` lists by column name, extra file `metadata` (e.g. GeoParquet `geo`)."""

    columns: list[Column]
    data: dict[str, list]
    metadata: dict[str, str] = field(default_factory=dict)
