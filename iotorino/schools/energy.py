"""School energy KPIs from hourly kWh: day types, out-of-hours share, baseload, peak, benchmarks, cost and CO₂e.

Every function is pure: it takes an hourly series (index: the hours' UTC
starts, tz-aware; values: kWh in that hour, NaN where unknown) and the school's
facts, and returns numbers. Definitions (also in docs/schools.md):

- **Day types** of an hour, by its local (Europe/Rome) start: `school_open`
  (a school day, inside the school's opening hours for that weekday),
  `school_closed` (a school day, outside them), `weekend`, `holiday` (national
  holidays, Turin's patron saint, the regional breaks and the summer).
- **Out-of-hours share**: 1 − kWh(school_open) / kWh(all), over the hours with data.
- **Baseload** (kW) of a local day: the mean of its 4 lowest hourly kWh (an
  hour's kWh is its mean kW). Energy Sparks takes the 8 lowest half-hours of a
  day; 4 hours is the same span at hourly resolution. A day needs at least 20
  hours with data, otherwise it has no baseload.
- **Peak** (kW) of a local day: its highest hourly mean power (Energy Sparks
  takes the mean of the 3 highest half-hours; hourly data cannot resolve less
  than an hour). Reported as the mean over school days.
- **Benchmarks** (Energy Sparks' `BenchmarkMetrics`, energy-sparks_analytics):
  typical baseload 1 kW (primary, under 150 pupils) plus 1 kW per 100 pupils
  above 150; secondary 10 kW plus 9.5 kW per 500 pupils above 500; exemplar =
  0.6 × typical. Annual electricity: typical 300 kWh per pupil (primary) or 400
  (secondary), exemplar 200 or 300. Heat: typical 95.8 kWh/m² (115,000 kWh per
  1,200 m²), exemplar 80 kWh/m². Italian levels map to them as: infanzia and
  primaria → primary; secondaria di I and II grado → secondary. These are UK
  figures, the only published open ones; they are labelled as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from iotorino.core.school_calendar import HOLIDAY, SCHOOL, WEEKEND, OpeningHours, SchoolCalendar

TZ = "Europe/Rome"
SCHOOL_OPEN = "school_open"
SCHOOL_CLOSED = "school_closed"
DAY_TYPES = (SCHOOL_OPEN, SCHOOL_CLOSED, WEEKEND, HOLIDAY)
BASELOAD_HOURS = 4
MIN_HOURS_FOR_BASELOAD = 20
LEVELS = ("infanzia", "primaria", "secondaria_1", "secondaria_2")
_BENCHMARK_CLASS = {"infanzia": "primary", "primaria": "primary",
                    "secondaria_1": "secondary", "secondaria_2": "secondary"}


def local_index(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The hours' starts in Turin's local time."""
    return index.tz_convert(TZ)


def day_types(index: pd.DatetimeIndex, calendar: SchoolCalendar, opening: OpeningHours,
              level: str) -> np.ndarray:
    """The day type of each hour (by its local start), as an array of strings."""
    local = local_index(index)
    kinds: dict[date, str] = {}
    out = np.empty(len(local), dtype=object)
    for i, stamp in enumerate(local):
        day = stamp.date()
        if day not in kinds:
            kinds[day] = calendar.day(day, level).kind
        kind = kinds[day]
        if kind == SCHOOL:
            kind = SCHOOL_OPEN if opening.is_open(stamp.weekday(), stamp.hour * 60 + stamp.minute) else SCHOOL_CLOSED
        out[i] = kind
    return out


def kwh_by_day_type(kwh: pd.Series, types: np.ndarray) -> dict[str, float]:
    """kWh per day type over the hours with data (every type present, 0.0 when it has none)."""
    values = kwh.to_numpy(dtype=float)
    known = ~np.isnan(values)
    return {t: float(values[known & (types == t)].sum()) for t in DAY_TYPES}


def out_of_hours_share(by_type: dict[str, float]) -> float | None:
    """1 − kWh(school_open)/kWh(total); None when nothing was used."""
    total = sum(by_type.values())
    return None if total <= 0 else 1.0 - by_type[SCHOOL_OPEN] / total


def _by_local_day(kwh: pd.Series) -> pd.core.groupby.SeriesGroupBy:
    local = local_index(kwh.index)
    return kwh.groupby(pd.Index([t.date() for t in local], name="day"))


def daily_baseload_kw(kwh: pd.Series) -> pd.Series:
    """Per local day: mean of the 4 lowest hourly kWh (= kW), NaN for a day with fewer than 20 hours of data."""
    def baseload(day: pd.Series) -> float:
        values = np.sort(day.dropna().to_numpy(dtype=float))
        if len(values) < MIN_HOURS_FOR_BASELOAD:
            return float("nan")
        return float(values[:BASELOAD_HOURS].mean())

    return _by_local_day(kwh).apply(baseload)


def daily_peak_kw(kwh: pd.Series) -> pd.Series:
    """Per local day: the highest hourly mean power (kW); NaN for a day with no data."""
    return _by_local_day(kwh).max()


def benchmark_class(level: str) -> str:
    """`primary` or `secondary`: the Energy Sparks benchmark an Italian school level is held to."""
    try:
        return _BENCHMARK_CLASS[level]
    except KeyError:
        raise ValueError(f"school level {level!r}: accepted {', '.join(LEVELS)}") from None


def typical_baseload_kw(level: str, pupils: int) -> float:
    """Energy Sparks' typical baseload for the school's size and level (kW)."""
    if benchmark_class(level) == "primary":
        return 1.0 if pupils < 150 else 1.0 + 1.0 * (pupils - 150) / 100
    return 10.0 if pupils < 500 else 10.0 + 9.5 * (pupils - 500) / 500


def exemplar_baseload_kw(level: str, pupils: int) -> float:
    """Energy Sparks' exemplar baseload: 0.6 × typical (kW)."""
    return 0.6 * typical_baseload_kw(level, pupils)


def annual_electricity_kwh(level: str, pupils: int) -> dict[str, float]:
    """Typical and exemplar annual electricity (kWh) for the school's size and level."""
    per_pupil = {"primary": (300.0, 200.0), "secondary": (400.0, 300.0)}[benchmark_class(level)]
    return {"typical": per_pupil[0] * pupils, "exemplar": per_pupil[1] * pupils}


def annual_heat_kwh(floor_area_m2: float) -> dict[str, float]:
    """Typical and exemplar annual heat (kWh) for the floor area."""
    return {"typical": 115_000.0 / 1_200.0 * floor_area_m2, "exemplar": 80.0 * floor_area_m2}


def baseload_saving_kwh(baseload_kw: float, level: str, pupils: int, hours: float = 8760.0) -> float:
    """kWh a year saved if the baseload came down to the exemplar's (0 when already below)."""
    return max(0.0, baseload_kw - exemplar_baseload_kw(level, pupils)) * hours


@dataclass(frozen=True, slots=True)
class Tariff:
    """Price and emission factor of one fuel (from configuration, with their sources)."""

    eur_per_kwh: float
    kg_co2e_per_kwh: float


def cost_and_emissions(kwh: float, tariff: Tariff) -> tuple[float, float]:
    """(€, kg CO₂e) of `kwh`."""
    return kwh * tariff.eur_per_kwh, kwh * tariff.kg_co2e_per_kwh


def per_area_and_pupil(kwh: float, floor_area_m2: float, pupils: int) -> tuple[float, float]:
    """(kWh/m², kWh per pupil)."""
    return kwh / floor_area_m2, kwh / pupils
