"""Classroom air in teaching hours: CO₂ bands, the teaching-hours mean, temperature and humidity comfort.

Definitions (also in docs/schools.md):

- **Teaching hours**: a school day's opening hours (iotorino.schools.energy's
  `school_open` day type), by the hour's local start.
- **CO₂ bands** (ppm), after the German Umweltbundesamt's guide values
  (< 1,000 harmless, 1,000–2,000 elevated, > 2,000 unacceptable) with the
  1,000–2,000 band split at 1,500, the teaching-day mean that UK BB101 (2018)
  asks not to exceed: `good` < 1,000 ≤ `fair` < 1,500 ≤ `poor` < 2,000 ≤ `bad`.
  Shares are of teaching hours with a CO₂ value.
- **Temperature comfort** in the heating season: 20 °C ± 2 °C (DPR 412/1993
  art. 4: 20 °C with a tolerance of 2 °C); share of teaching hours below 18 °C,
  within, and above 22 °C.
- **Relative humidity**: share of teaching hours within 30–60 % (the band
  commonly recommended for classrooms, e.g. EN 16798-1 category II: 25–60 %).
"""

from __future__ import annotations

import numpy as np

CO2_BANDS = (("good", 0.0, 1000.0), ("fair", 1000.0, 1500.0), ("poor", 1500.0, 2000.0),
             ("bad", 2000.0, float("inf")))
SET_POINT_C = 20.0
TOLERANCE_C = 2.0
RH_BAND = (30.0, 60.0)


def co2_band(ppm: float) -> str:
    """The band of one CO₂ value (ppm)."""
    for name, low, high in CO2_BANDS:
        if low <= ppm < high:
            return name
    raise ValueError(f"CO₂ {ppm!r} ppm is not a number of ppm >= 0")


def co2_band_shares(hourly_ppm: np.ndarray, teaching: np.ndarray) -> dict[str, float | None]:
    """Share of teaching hours in each CO₂ band (None when no teaching hour has a value)."""
    values = hourly_ppm[teaching & ~np.isnan(hourly_ppm)]
    if not len(values):
        return {name: None for name, _, _ in CO2_BANDS}
    return {name: float(((values >= low) & (values < high)).mean()) for name, low, high in CO2_BANDS}


def teaching_mean(hourly: np.ndarray, teaching: np.ndarray) -> float | None:
    """Mean over teaching hours with a value; None when there are none."""
    values = hourly[teaching & ~np.isnan(hourly)]
    return float(values.mean()) if len(values) else None


def temperature_shares(hourly_c: np.ndarray, teaching: np.ndarray) -> dict[str, float | None]:
    """Share of teaching hours below, within and above 20 °C ± 2 °C."""
    values = hourly_c[teaching & ~np.isnan(hourly_c)]
    if not len(values):
        return {"cold": None, "comfortable": None, "warm": None}
    low, high = SET_POINT_C - TOLERANCE_C, SET_POINT_C + TOLERANCE_C
    return {"cold": float((values < low).mean()),
            "comfortable": float(((values >= low) & (values <= high)).mean()),
            "warm": float((values > high).mean())}


def humidity_share(hourly_rh: np.ndarray, teaching: np.ndarray) -> float | None:
    """Share of teaching hours with relative humidity within 30–60 %."""
    values = hourly_rh[teaching & ~np.isnan(hourly_rh)]
    if not len(values):
        return None
    return float(((values >= RH_BAND[0]) & (values <= RH_BAND[1])).mean())
