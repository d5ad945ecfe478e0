"""The shapes a dataset builder takes and returns: `ExportContext` in, `Built` out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iotorino.export.columns import Column
from iotorino.export.window import DayWindow
from iotorino.core.store.influx_v1 import InfluxV1Client


@dataclass
class ExportContext:
    """What a dataset builder may use: the store `client`, the day `window`, the `inventory` (or None),
    and `out_dir`, where earlier partitions of other datasets may be read (or None)."""

    client: InfluxV1Client
    window: DayWindow
    inventory: Any | None
    chunk_hours: int = 6
    out_dir: Path | None = None


@dataclass(frozen=True)
class Built:
    """A built day: `columns` specs, `data` lists by column name, extra file `metadata` (e.g. GeoParquet `geo`)."""

    columns: list[Column]
    data: dict[str, list]
    metadata: dict[str, str] = field(default_factory=dict)
