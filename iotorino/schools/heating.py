"""Heating analyses: Italian degree days, a per-school degree-day model, and heating where it should be off.

Definitions (also in docs/schools.md):

- **Gradi giorno** (degree days, DPR 412/1993 art. 1): for each day of the
  heating season, the positive difference between 20 °C and the day's mean
  outdoor temperature, summed. Turin is in climate zone E: the season runs
  from 15 October to 15 April, at most 14 hours a day (DPR 412/1993 art. 9).
  A day's mean temperature is the mean of its hourly means and needs 18 hours.
- **Model**: on school days in the heating season, a least-squares line
  `kWh_day = a + b · GG_day`; `r2` says how well the weather explains the use.
- **Heating on** in a day: its heat kWh above `on_threshold_kwh` (configuration;
  default 5 % of the school's mean heating-season school day).
- **Warm day**: daily mean outdoor temperature at or above `warm_day_c` (default
  16 °C: above it a school needs no heating; Energy Sparks uses a balance point
  of the same order).
- Findings: heating on outside the season, on a warm day, on a weekend or
  holiday, or started more than `early_start_h` (default 2 h) before opening.
  The start is the first hour whose heat reaches a quarter of the day's
  highest hour (an interval that straddles the start spreads a little energy
  into the hour before; a quarter of the peak is well above that).
- **Weather-normalised change**: (kWh/GG this period) / (kWh/GG same period a year
  before) − 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

BASE_C = 20.0
SEASON_START = (10, 15)  # 15 October
SEASON_END = (4, 15)  # 15 April, included
MIN_HOURS_FOR_MEAN = 18


def in_heating_season(day: date) -> bool:
    """Climate zone E: 15 October to 15 April, both included."""
    md = (day.month, day.day)
    return md >= SEASON_START or md <= SEASON_END


def daily_mean_temperature(hourly_c: pd.Series) -> pd.Series:
    """Per local day, the mean of the hourly means; NaN with fewer than 18 hours."""
    local = hourly_c.index.tz_convert("Europe/Rome")
    grouped = hourly_c.groupby(pd.Index([t.date() for t in local], name="day"))
    counts = grouped.count()
    means = grouped.mean()
    return means.where(counts >= MIN_HOURS_FOR_MEAN)


def degree_days(daily_mean_c: pd.Series, base_c: float = BASE_C) -> pd.Series:
    """Per day, max(0, base − mean) inside the heating season and 0 outside; NaN where the mean is unknown."""
    values = []
    for day, mean in daily_mean_c.items():
        if np.isnan(mean):
            values.append(float("nan"))
        elif not in_heating_season(day):
            values.append(0.0)
        else:
            values.append(max(0.0, base_c - float(mean)))
    return pd.Series(values, index=daily_mean_c.index, dtype=float)


@dataclass(frozen=True, slots=True)
class DegreeDayModel:
    """`kWh_day = intercept + slope · GG_day`, fitted on `days` days, with its r²."""

    intercept: float
    slope: float
    r2: float
    days: int

    def predict(self, gg: float) -> float:
        """Expected kWh for a day with `gg` degree days."""
        return self.intercept + self.slope * gg


def fit(daily_kwh: pd.Series, daily_gg: pd.Series) -> DegreeDayModel | None:
    """Least squares over days where both are known; None with fewer than 10 days or no spread in GG."""
    both = pd.concat([daily_kwh.rename("kwh"), daily_gg.rename("gg")], axis=1).dropna()
    if len(both) < 10 or both["gg"].nunique() < 2:
        return None
    x, y = both["gg"].to_numpy(float), both["kwh"].to_numpy(float)
    slope, intercept = np.polyfit(x, y, 1)
    predicted = intercept + slope * x
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(((y - predicted) ** 2).sum()) / total if total > 0 else 0.0
    return DegreeDayModel(float(intercept), float(slope), r2, len(both))


@dataclass(frozen=True, slots=True)
class HeatingFinding:
    """One day on which heating ran when it should not have: kind, day, kWh, and detail."""

    kind: str  # out_of_season | warm_day | weekend | holiday | early_start
    day: date
    kwh: float
    detail: str = ""


def heating_findings(hourly_kwh: pd.Series, daily_mean_c: pd.Series, day_kinds: dict[date, str],
                     opening_minute: dict[date, int | None], *, on_threshold_kwh: float,
                     warm_day_c: float = 16.0, early_start_h: float = 2.0) -> list[HeatingFinding]:
    """Days with heating on where it should be off (see the module docstring).

    `day_kinds` maps a local day to `school`, `weekend` or `holiday`; `opening_minute`
    gives a school day's local opening minute (None when closed).
    """
    local = hourly_kwh.index.tz_convert("Europe/Rome")
    frame = pd.DataFrame({"kwh": hourly_kwh.to_numpy(float), "day": [t.date() for t in local],
                          "minute": [t.hour * 60 + t.minute for t in local]})
    findings: list[HeatingFinding] = []
    for day, hours in frame.groupby("day", sort=True):
        used = float(np.nansum(hours["kwh"]))
        if used <= on_threshold_kwh:
            continue
        kind = day_kinds.get(day)
        mean_c = daily_mean_c.get(day, float("nan"))
        if not in_heating_season(day):
            findings.append(HeatingFinding("out_of_season", day, used))
        elif kind in ("weekend", "holiday"):
            findings.append(HeatingFinding(kind, day, used))
        elif not np.isnan(mean_c) and mean_c >= warm_day_c:
            findings.append(HeatingFinding("warm_day", day, used, f"{mean_c:.1f} °C"))
        elif kind == "school" and opening_minute.get(day) is not None:
            start = _first_on_minute(hours)
            opens = opening_minute[day]
            if start is not None and opens - start > early_start_h * 60:
                findings.append(HeatingFinding("early_start", day, used,
                                               f"{start // 60:02d}:{start % 60:02d}"))
    return findings


def _first_on_minute(hours: pd.DataFrame) -> int | None:
    """The local minute of the first hour of the day whose kWh reaches a quarter of the day's highest hour."""
    peak = float(np.nanmax(hours["kwh"])) if len(hours) else 0.0
    if peak <= 0:
        return None
    on = hours[hours["kwh"] >= 0.25 * peak].sort_values("minute")
    return int(on["minute"].iloc[0])


def normalised_change(kwh_now: float, gg_now: float, kwh_before: float, gg_before: float) -> float | None:
    """(kWh/GG now) / (kWh/GG a year before) − 1; None when either period had no degree days or use."""
    if gg_now <= 0 or gg_before <= 0 or kwh_before <= 0:
        return None
    return (kwh_now / gg_now) / (kwh_before / gg_before) - 1.0
