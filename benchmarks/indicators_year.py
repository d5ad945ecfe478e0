"""Air-quality indicators for 500 simulated street units: one day, and a whole year (backfill).

    .venv/bin/python -m benchmarks indicators [--units 500] [--repeat 3]
    .venv/bin/python -m benchmarks.indicators_year [--units 500] [--repeat 3]   # this one alone

Each unit gets a simulated year (2026, Europe/Rome days) of hourly statistics
(reading count and mean for pm25, pm10, no2, o3, co, pm1; 3 % of hours short of
data), generated outside the timed sections. Timed, pure computation only (no
store, no Parquet):

- one day, 31 December (the costliest: the year so far is a whole year):
  the day's hourly values, daily means and hourly index, and every regime's
  limit statuses from the year's validated hourly values;
- the same day as the export computes it since the year so far became arrays:
  the day's values as above, then every limit's status for all units at once
  from units × hours arrays (`year_statuses`); the per-unit lists above are
  the before, measured in the same run;
- the whole year as a backfill: all 8760 hourly values and index hours, 365
  daily means per pollutant, and every limit's standing after each of the 365
  days, in one pass per unit.

Times are CPU seconds of this process (`time.process_time`), so other load on
a shared machine does not count. Baseline from the same run: one plain pass
over the same hourly values (their sum), the least any computation over them
must do. Prints medians and ratios; `python -m benchmarks indicators` puts them in
the common table.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date, timedelta

import numpy as np

from benchmarks.report import Figure, now, table
from iotorino.export.air_quality import POLLUTANTS, limited_pollutants, unit_statuses, year_statuses
from iotorino.export.window import local_day
from iotorino.indicators import air, eaqi, limits

YEAR = 2026
# CPU seconds of this process: the machine is shared, and wall time would count other work's turns.
CLOCK = time.process_time
INTERVAL_S = 300
LEVELS = {"pm25": 18.0, "pm10": 30.0, "no2": 45.0, "o3": 50.0, "co": 0.6, "pm1": 12.0}


def simulated_unit(seed: int, hours_per_day: list[int]) -> dict[str, list[list[tuple[int, float]]]]:
    """(count, mean) per pollutant, day and hour: a winter-heavy, rush-hour-shaped year (numpy, not timed)."""
    rng = np.random.default_rng(seed)
    exposure = rng.uniform(0.6, 1.4)
    total = sum(hours_per_day)
    day_of = np.repeat(np.arange(len(hours_per_day)), hours_per_day)
    hour_of = np.concatenate([np.arange(n) for n in hours_per_day])
    shape = (1.0 + 0.8 * np.abs(182 - day_of) / 182) * np.where(np.isin(hour_of, (7, 8, 9, 17, 18, 19)), 1.3, 1.0)
    bounds = np.cumsum([0, *hours_per_day])
    out: dict[str, list[list[tuple[int, float]]]] = {}
    for p in POLLUTANTS:
        means = (LEVELS[p] * exposure * shape * rng.lognormal(0, 0.35, total)).tolist()
        counts = np.where(rng.random(total) > 0.03, 12, rng.integers(1, 9, total)).tolist()
        pairs = list(zip(counts, means))
        out[p] = [pairs[bounds[d]:bounds[d + 1]] for d in range(len(hours_per_day))]
    return out


def validated(stats, rules) -> dict[str, list[list[float | None]]]:
    """Hourly values by the 75 % rule."""
    return {p: [[air.hour_value(c, m, INTERVAL_S, rules.validity).value for c, m in day] for day in days]
            for p, days in stats.items()}


def one_day(stats, earlier: dict[str, list[list[float | None]]], hours_per_day, rules) -> int:
    """31 December: the day's hourly values, daily means, index, and the year-so-far limit statuses.

    `earlier` are the validated hourly values of the days before (the export reads them from
    the index partitions already written).
    """
    values = validated({p: [days[-1]] for p, days in stats.items()}, rules)
    for p in POLLUTANTS:
        air.day_value(values[p][0], hours_per_day[-1], rules.validity)
    for i in range(hours_per_day[-1]):
        eaqi.index_hour(rules.eaqi, {p: values[p][0][i] for p in POLLUTANTS})
    year_values = {p: earlier[p] + values[p] for p in POLLUTANTS}
    return sum(1 for _ in unit_statuses(year_values, hours_per_day, YEAR, rules))


def day_values(stats, hours_per_day, rules) -> dict[str, list[float | None]]:
    """31 December per unit, as the export does before the year: hourly values, daily means and index."""
    values = validated({p: [days[-1]] for p, days in stats.items()}, rules)
    for p in POLLUTANTS:
        air.day_value(values[p][0], hours_per_day[-1], rules.validity)
    for i in range(hours_per_day[-1]):
        eaqi.index_hour(rules.eaqi, {p: values[p][0][i] for p in POLLUTANTS})
    return {p: values[p][0] for p in POLLUTANTS}


def one_day_arrays(year: dict[str, np.ndarray], hours_per_day, rules) -> int:
    """31 December's limit statuses for every unit at once from units × hours arrays (the export's path)."""
    return sum(len(v) for v in year_statuses(year, hours_per_day, YEAR, rules).values())


def whole_year(stats, hours_per_day, rules) -> int:
    """Every hour, day and day-end standing of the year, in one pass."""
    values = validated(stats, rules)
    for p in POLLUTANTS:
        for day, n in zip(values[p], hours_per_day):
            air.day_value(day, n, rules.validity)
    for d, n in enumerate(hours_per_day):
        for i in range(n):
            eaqi.index_hour(rules.eaqi, {p: values[p][d][i] for p in POLLUTANTS})
    ends = range(1, len(hours_per_day) + 1)
    return sum(1 for _ in unit_statuses(values, hours_per_day, YEAR, rules, ends))


def floor_pass(stats) -> float:
    """The baseline: one plain pass over every hourly mean."""
    return sum(m for days in stats.values() for day in days for _, m in day)


def measure(units: int, repeat: int) -> dict:
    """CPU seconds per run of the day, the year and the floor pass over `units` simulated units."""
    rules = limits.default()
    first = date(YEAR, 1, 1)
    hours_per_day = [local_day(first + timedelta(days=k)).hours for k in range(365)]
    runs: dict[str, list[float]] = {"day": [], "year": [], "floor": [], "arrays": []}
    rows = {"day": 0, "year": 0}
    kept = limited_pollutants(rules)
    for r in range(repeat):
        spent = {"day": 0.0, "year": 0.0, "floor": 0.0, "arrays": 0.0}
        year = {p: np.full((units, sum(hours_per_day)), np.nan) for p in kept}
        for unit in range(units):
            stats = simulated_unit(unit, hours_per_day)  # not timed
            earlier = validated({p: days[:-1] for p, days in stats.items()}, rules)  # not timed
            for p in kept:  # the earlier days as the export reads them from the index partitions: not timed
                year[p][unit, :-hours_per_day[-1]] = np.array([v for day in earlier[p] for v in day], dtype=np.float64)
            t = CLOCK()
            today = day_values(stats, hours_per_day, rules)
            spent["arrays"] += CLOCK() - t
            for p in kept:
                year[p][unit, -hours_per_day[-1]:] = np.array(today[p], dtype=np.float64)
            t0 = CLOCK()
            floor_pass(stats)
            t1 = CLOCK()
            n_day = one_day(stats, earlier, hours_per_day, rules)
            t2 = CLOCK()
            n_year = whole_year(stats, hours_per_day, rules)
            t3 = CLOCK()
            spent["floor"] += t1 - t0
            spent["day"] += t2 - t1
            spent["year"] += t3 - t2
            rows["day"], rows["year"] = n_day, n_year
        t = CLOCK()
        statuses = one_day_arrays(year, hours_per_day, rules)
        spent["arrays"] += CLOCK() - t
        assert statuses == rows["day"] * units, (statuses, rows["day"])
        del year
        for k, v in spent.items():
            runs[k].append(v)
        print(f"run {r + 1}: day {spent['day']:.2f} s, day (arrays) {spent['arrays']:.2f} s, year {spent['year']:.2f} s, floor {spent['floor']:.3f} s "
              "(CPU)", flush=True)
    return {"runs": runs, "rows": rows, "hours": sum(hours_per_day)}


def run(units: int = 500, repeat: int = 3) -> list[Figure]:
    """The figures for `python -m benchmarks indicators`: one day and a year's backfill for `units` units."""
    measured = measure(units, repeat)
    med = {k: statistics.median(v) for k, v in measured["runs"].items()}
    runs = measured["runs"]
    note = (f"CPU seconds of the computation alone (no store, no Parquet), {units} units, median of {repeat}; "
            f"runs day {', '.join(f'{x:.1f}' for x in runs['day'])} s, year {', '.join(f'{x:.1f}' for x in runs['year'])} s; "
            f"{measured['rows']['day']} limit statuses per unit for a day, {measured['rows']['year']} for the year's day ends")
    floor = f"one pass over the {6 * measured['hours'] * units:,} hourly means"
    return [
        Figure(f"indicators: one day (31 Dec, year so far), {units} units", med["day"], "s", med["floor"], floor,
               note=note),
        Figure(f"indicators: one day (31 Dec, year so far) as arrays (the export's path), {units} units",
               med["arrays"], "s", med["day"], "the same day from per-unit lists (before)",
               note=f"runs {', '.join(f'{x:.2f}' for x in runs['arrays'])} s"),
        Figure(f"indicators: whole-year backfill (365 day ends), {units} units", med["year"], "s", med["floor"], floor),
    ]


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    started = now()
    print(table(run(args.units, args.repeat), started))


if __name__ == "__main__":
    main()
