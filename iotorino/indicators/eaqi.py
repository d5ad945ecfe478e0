"""The European Air Quality Index (EEA, 2024 bands) of one hour from its valid hourly values.

Each pollutant's value falls in a band (a value equal to a band's upper edge
stays in that band); the index is the poorest band among the pollutants the
unit measured validly that hour, and names the pollutant that set it. Bands and
version come from `schemas/air_quality_limits.yaml`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from iotorino.indicators.limits import Eaqi


@dataclass(frozen=True)
class IndexHour:
    """An hour's index: `level` 1 (good) .. 6 (extremely poor) or None, the `pollutant` setting it, every sub-index."""

    level: int | None
    pollutant: str | None
    levels: Mapping[str, int]


def band(eaqi: Eaqi, pollutant: str, value: float) -> int:
    """The band level (1..6) of `value` µg/m³ of `pollutant`."""
    for i, edge in enumerate(eaqi.upper[pollutant]):
        if value <= edge:
            return i + 1
    return len(eaqi.bands)


def index_hour(eaqi: Eaqi, values: Mapping[str, float | None]) -> IndexHour:
    """The index of one hour from valid hourly values by pollutant (None or absent: not measured validly)."""
    levels = {p: band(eaqi, p, v) for p, v in values.items() if v is not None and p in eaqi.upper}
    if not levels:
        return IndexHour(None, None, {})
    worst = max(levels, key=lambda p: (levels[p], -list(eaqi.upper).index(p)))
    return IndexHour(levels[worst], worst, levels)
