"""The array path of `air_quality_indicators` equals the reference rules of `iotorino.indicators.air`, bit for bit.

Random years of hourly values for many units at once: gaps and whole invalid
days, the DST days of 23 and 25 hours, values exactly at a limit's exceedance
floor and just below it (ties), values whose sums depend on the order of the
additions, units without a single valid value, and years cut short (a day in
January, a day in December).
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import numpy as np
import pytest

from iotorino.export import air_year
from iotorino.export.air_quality import _DayBlock, _Growing, limited_pollutants, unit_statuses, year_statuses
from iotorino.export.window import local_day
from iotorino.indicators import air, limits

RULES = limits.default()
VALIDITY = RULES.validity
YEAR = 2026  # 29 March: 23 hours; 25 October: 25 hours


def hours_per_day(days: int) -> list[int]:
    """The hours of the first `days` local days of YEAR."""
    return [local_day(date(YEAR, 1, 1) + timedelta(days=k)).hours for k in range(days)]


def random_unit(rng: random.Random, counts: list[int], limit_values: list[float]) -> list[list[float | None]]:
    """A unit's days of hourly values: some units empty, some days invalid, ties at the limits' floors."""
    kind = rng.random()
    if kind < 0.05:
        return [[None] * n for n in counts]
    floors = [air.exceedance_floor(v) for v in limit_values]
    out = []
    for n in counts:
        gap = rng.choice((0.0, 0.02, 0.3, 0.9))  # 0.3: days around the 18-hour rule; 0.9: invalid days
        day = []
        for _ in range(n):
            r = rng.random()
            if r < gap:
                day.append(None)
            elif r < gap + 0.05:
                f = rng.choice(floors)
                day.append(rng.choice((f, math.nextafter(f, 0.0), float(rng.choice(limit_values)))))
            else:
                day.append(rng.choice((0.1, 0.2, 0.3, 1e-9, 1e9)) if rng.random() < 0.05 else rng.uniform(0, 300))
        out.append(day)
    return out


def as_array(units: list[list[list[float | None]]], hours: int) -> np.ndarray:
    """Units × hours, NaN for None."""
    return np.array([[v for day in unit for v in day] for unit in units], dtype=np.float64).reshape(len(units), hours)


def same(a, b) -> bool:
    """Equal, floats to the last bit (None only with None)."""
    if isinstance(a, float) and isinstance(b, float):
        return a.hex() == b.hex()
    return a == b and type(a) is type(b)


@pytest.mark.parametrize("days, seed", [(1, 1), (31, 2), (88, 3), (298, 4), (365, 5)])
def test_daily_means_and_every_limits_status_equal_the_reference(days, seed):
    rng = random.Random(seed)
    counts = hours_per_day(days)
    limits_ = [x for r in RULES.regimes for x in r.limits]
    units = [random_unit(rng, counts, sorted({x.value for x in limits_})) for _ in range(40)]
    hourly = as_array(units, sum(counts))

    means = air_year.day_means(hourly, counts, VALIDITY)
    reference_means = [[air.day_value(day, n, VALIDITY).mean for day, n in zip(unit, counts)] for unit in units]
    for u, unit_means in enumerate(reference_means):
        for d, mean in enumerate(unit_means):
            got = means[u, d]
            assert (mean is None and math.isnan(got)) or same(float(got), mean), (u, d, got, mean)

    days_in_year = 365
    for limit in limits_:
        day = limit.averaging == "day"
        tallies = air_year.Tallies(means if day else hourly)
        got = air_year.statuses(limit, tallies, days_in_year if day else days_in_year * 24, VALIDITY)
        for u, unit in enumerate(units):
            values = reference_means[u] if day else [v for d in unit for v in d]
            want = air.limit_status(limit, values, days_in_year if day else days_in_year * 24, VALIDITY)
            for field in ("periods_elapsed", "periods_valid", "capture", "valid", "exceedances", "remaining", "broken",
                          "projected", "projected_broken", "percentile_value", "annual_mean"):
                assert same(getattr(got[u], field), getattr(want, field)), (limit.id, u, field)


def test_the_order_of_additions_is_the_references():
    """Values whose sum differs between pairwise and left-to-right addition: the mean is the left-to-right one."""
    day = [1e16, 1.0, -1e16, 1.0] + [0.1] * 20
    hourly = np.array([day], dtype=np.float64)
    want = air.day_value(day, 24, VALIDITY).mean
    assert want != float(np.sum(hourly)) / 24  # the case tells the two apart
    assert same(float(air_year.day_means(hourly, [24], VALIDITY)[0, 0]), want)


def test_year_statuses_equal_the_per_unit_reference_for_every_regime():
    """`year_statuses` (the export's path) against `unit_statuses` (per-unit lists and `air.limit_statuses`)."""
    rng = random.Random(7)
    counts = hours_per_day(300)
    kept = limited_pollutants(RULES)
    limit_values = sorted({x.value for r in RULES.regimes for x in r.limits})
    units = [{p: random_unit(rng, counts, limit_values) for p in kept} for _ in range(12)]
    got = year_statuses({p: as_array([u[p] for u in units], sum(counts)) for p in kept}, counts, YEAR, RULES)
    for u, unit in enumerate(units):
        want = list(unit_statuses(unit, counts, YEAR, RULES))
        assert [(regime.id, s.limit.id) for regime, _, s in want] == list(got)
        for (regime, _, s), statuses in zip(want, got.values()):
            assert all(same(a, b) for a, b in zip(vars(statuses[u]).values(), vars(s).values())), (regime.id, s.limit.id, u)


def test_the_year_arrays_gain_a_row_for_each_unit_first_met_on_a_later_day():
    """Units met on later days (or in store reads after the partitions) keep every earlier row's values."""
    year = _Growing(["no2"], 48)
    for offset, units in ((24, ["b", "a"]), (0, ["c", "a", "d", "e", "f", "g", "h", "i", "j", "k"])):
        n = len(units)
        year.add(_DayBlock(units, [None] * n, np.repeat(np.arange(n), 24), np.tile(np.arange(24), n),
                           {"no2": np.repeat(np.arange(n, dtype=np.float64), 24) + offset}), offset)
    rows = {u: year.values["no2"][r] for u, r in year.row_of.items()}
    assert list(year.row_of) == ["b", "a", "c", "d", "e", "f", "g", "h", "i", "j", "k"]
    assert (rows["b"][24:] == 24).all() and np.isnan(rows["b"][:24]).all()
    assert (rows["a"][24:] == 25).all() and (rows["a"][:24] == 1).all()
    assert (rows["k"][:24] == 9).all() and np.isnan(rows["k"][24:]).all()
