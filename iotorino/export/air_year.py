"""The year so far of every street unit at once, as arrays: daily means and limit statuses over units × periods.

`air_quality_indicators` needs, for each of ~500 units, every limit's standing
over the year so far (up to 8784 hourly values and 366 daily means per
pollutant). The rules are `iotorino.indicators.air` (`day_value`,
`limit_statuses`, the reference recomputed by the tests); here the same rules
run over numpy arrays of shape (units, periods) with NaN for an invalid or
missing value, with the float arithmetic that decides a published value kept
as the reference's:

- a daily mean sums the day's valid hours in hour order, one addition at a
  time, as Python's `sum` does (numpy's `sum` adds pairwise: another last bit);
- an annual mean sums the year's valid values in period order (`np.cumsum` is
  sequential);
- the percentile is the nearest rank of the sorted valid values, and the rest
  of a status (capture, projection, allowances) is `air.standing` itself.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from iotorino.indicators import air
from iotorino.indicators.limits import Limit, Validity


def day_means(hourly: np.ndarray, hours_per_day: Sequence[int], validity: Validity) -> np.ndarray:
    """Daily means (units × days, NaN: invalid day) of hourly values (units × hours of the days, NaN: invalid hour).

    As `air.day_value(...).mean`: valid with `air.required_hours` valid hours, the
    valid hours summed in hour order.
    """
    counts = np.asarray(hours_per_day, dtype=np.int64)
    width = int(counts.max(initial=0))
    day_of = np.repeat(np.arange(len(counts)), counts)
    hour_in_day = np.arange(len(day_of)) - np.repeat(np.cumsum(counts) - counts, counts)
    padded = np.full((hourly.shape[0], len(counts) * width), np.nan)  # units × days × hours, NaN past a day's end
    padded[:, day_of * width + hour_in_day] = hourly
    padded = padded.reshape(hourly.shape[0], len(counts), width)
    ok = ~np.isnan(padded)
    valid = ok.sum(axis=2)
    zeroed = np.where(ok, padded, 0.0)
    total = np.zeros((hourly.shape[0], len(counts)))
    for i in range(width):  # hour by hour: left-to-right addition (adding 0.0 for a missing hour changes nothing)
        total += zeroed[:, :, i]
    need = np.array([air.required_hours(int(n), validity) for n in counts], dtype=np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid >= need, total / valid, np.nan)


class Tallies:
    """The valid values of units × periods (NaN: invalid), sorted once per row and summed in period order."""

    def __init__(self, values: np.ndarray):
        """`values`: units × periods elapsed, NaN for a period without a valid value."""
        self.values = values
        ok = ~np.isnan(values)
        self.valid = ok.sum(axis=1)
        zeroed = np.where(ok, values, 0.0)
        self.total = np.cumsum(zeroed, axis=1)[:, -1] if values.shape[1] else np.zeros(values.shape[0])
        self._sorted: np.ndarray | None = None

    def ranked(self, percentile: float) -> np.ndarray:
        """Per unit, the nearest-rank `percentile` of its valid values (NaN without any), as `air.nearest_rank`."""
        if self._sorted is None:
            self._sorted = np.sort(self.values, axis=1)  # NaN last
        n = self.valid
        k = np.clip(np.floor(percentile / 100 * n + 0.5).astype(np.int64), 1, np.maximum(n, 1))
        picked = self._sorted[np.arange(len(n)), k - 1] if self._sorted.shape[1] else np.full(len(n), np.nan)
        return np.where(n > 0, picked, np.nan)


def statuses(limit: Limit, tallies: Tallies, periods_in_year: int, validity: Validity) -> list[air.LimitStatus]:
    """Per unit, `limit`'s status after all the periods of `tallies`: `air.limit_status` of each row."""
    end = tallies.values.shape[1]
    exceeding = (tallies.values >= air.exceedance_floor(limit.value)).sum(axis=1)  # NaN compares False
    ranked = tallies.ranked(limit.percentile).tolist() if limit.percentile is not None else None
    out = []
    for u, (valid, count, total) in enumerate(zip(tallies.valid.tolist(), exceeding.tolist(), tallies.total.tolist())):
        value = ranked[u] if ranked is not None and valid else None
        out.append(air.standing(limit, end, valid, count, total, value, periods_in_year, validity))
    return out
