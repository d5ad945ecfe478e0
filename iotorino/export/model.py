"""The shapes a dataset builder takes and returns: `ExportContext` in, `Built` out."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from iotorino.export.columns import Column
from iotorino.export.query import Row
from iotorino.export.window import HOUR_NS, DayWindow
from iotorino.core.store.influx_v1 import InfluxV1Client


class OnceCache:
    """Values computed once per key and shared: threads asking for a key being computed wait for it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple, tuple[threading.Lock, list]] = {}

    def get(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """The value for `key`, from `compute()` the first time."""
        with self._lock:
            lock, box = self._entries.setdefault(key, (threading.Lock(), []))
        with lock:
            if not box:
                box.append(compute())
            return box[0]


class PointCache:
    """A day's raw points, read once per measurement, tag grouping and time chunk, and shared by every dataset.

    The hourly datasets, the school KPIs, the air-quality and noise datasets and the quality report
    read the same measurements over the same day; each chunk is read with every float field of the
    measurement (catalogue order) so that readers of any subset share one request. Fields outside
    the catalogue's float fields are read on their own, unshared.
    """

    def __init__(self, client: InfluxV1Client) -> None:
        self.client = client
        self._once = OnceCache()

    def read(self, measurement: str, fields: Sequence[str], group_tags: Sequence[str], lo: int, hi: int):
        """`rawstats.read_points` for [lo, hi): a parsed table holding at least `fields`, or None."""
        from iotorino.core import catalogue
        from iotorino.export import rawstats

        spec = catalogue.default().measurements.get(measurement)
        floats = [f for f, s in spec.fields.items() if s.type == "float"] if spec else []
        if not set(fields) <= set(floats):
            return rawstats.read_points(self.client, measurement, fields, group_tags, lo, hi)
        tags = sorted(group_tags)  # the answer's series do not depend on the order of GROUP BY tags
        key = (measurement, tuple(tags), lo, hi)
        return self._once.get(key, lambda: rawstats.read_points(self.client, measurement, floats, tags, lo, hi))


@dataclass
class ExportContext:
    """What a dataset builder may use: the store `client`, the day `window`, the `inventory` (or None),
    and `out_dir`, where earlier partitions of other datasets may be read (or None)."""

    client: InfluxV1Client
    window: DayWindow
    inventory: Any | None
    chunk_hours: int = 6
    out_dir: Path | None = None
    cache: OnceCache = field(default_factory=OnceCache, repr=False)
    points: PointCache | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.points is None:
            self.points = PointCache(self.client)

    def hourly_stats(self, measurement: str, fields: Sequence[str], group_tags: Sequence[str]) -> list[Row]:
        """`{field}_mean/_min/_max/_count` per UTC hour and tag group over the day (float fields; see rawstats).

        Each field's mean follows its catalogue `average` rule: energetic for sound levels, else arithmetic.
        """
        from iotorino.core import catalogue
        from iotorino.export import rawstats

        key = (measurement, tuple(sorted(fields)), tuple(sorted(group_tags)), self.window.start_ns, self.window.end_ns)
        return self.cache.get(key, lambda: rawstats.hourly_stats(
            self.client, measurement, fields, group_tags, self.window.start_ns, self.window.end_ns,
            chunk_hours=self.chunk_hours, read=self.points.read,
            energetic=catalogue.default().energetic_fields(measurement),
        ))

    def raw_points(self, measurement: str, fields: Sequence[str], group_tags: Sequence[str], start_ns: int,
                   end_ns: int) -> Iterator[Row]:
        """`query.raw_points` over [start, end), from the day's shared reads: the window is cut on the day's chunk
        boundaries, so its chunks inside the day are the very reads the day's other datasets make."""
        from iotorino.export import rawstats

        day_start, step = self.window.start_ns, self.chunk_hours * HOUR_NS
        at = start_ns
        while at < end_ns:
            # Cut on the day's chunk boundaries, so that a chunk inside the day is the same read.
            offset = (at - day_start) % step
            hi = min(at + step - offset, end_ns)
            table = self.points.read(measurement, fields, group_tags, at, hi)
            if table is not None:
                yield from rawstats.point_rows(table, fields)
            at = hi


@dataclass(frozen=True)
class Built:
    """A built day: `columns` specs, `data` lists by column name, extra file `metadata` (e.g. GeoParquet `geo`)."""

    columns: list[Column]
    data: dict[str, list]
    metadata: dict[str, str] = field(default_factory=dict)
