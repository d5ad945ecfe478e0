"""Profiles and correlations over hourly frames: district hour-of-day profiles, units unlike their district,
indoor against outdoor at schools.

Pure functions over pandas frames of hourly values (one row per site and hour,
as the published hourly datasets hold them); no I/O. Definitions (docs/indicators.md):

- **Hour of day and day type** come from the hour's local label (`local_time_from`,
  ISO 8601 with the Europe/Rome offset): the hour is the label's clock hour, the
  day type `weekend` on Saturday and Sunday, else `weekday`. The autumn DST day's
  two 02:00 hours both count for hour 2; the spring day has no hour 2.
- **Profile:** per site, day type and hour of day, the mean of the valid hourly
  values (a missing value is left out, never taken as zero). Noise levels (dB)
  average energetically, 10·lg(mean(10^(L/10))); concentrations arithmetically.
- **District profile:** the same mean over every valid hour of every unit of the
  district (pooled), and the **district median profile**: per hour of day and day
  type, the median of its units' profiles.
- **Difference from the district:** the root mean square, over the hours of day
  and day types where both are known, of the unit's profile minus the district's
  median profile (in the pollutant's unit, dB for noise); `relative` divides it by
  the mean of the median profile over the same hours. Needs `min_hours` of the 48.
- **Lagged correlation:** Pearson's r of indoor(t) with outdoor(t − lag) over the
  hours where both exist, on the real UTC hour grid (a missing hour is never
  closed up by shifting positions), for lags −6..+6 h; the lag is the one with the
  highest r (ties: the smallest |lag|, then the positive one). A positive lag means
  indoor follows outdoor by that many hours. Needs `min_pairs` matched hours.
- **Nearest unit:** great-circle distance (haversine, R = 6,371,008.8 m) from the
  school's coordinates in the inventory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

DAY_TYPES = ("weekday", "weekend")
HOURS = tuple(range(24))
MAX_LAG_H = 6
MIN_PAIRS = 24  # matched hours a correlation needs
MIN_PROFILE_HOURS = 12  # hours of day (of 48) a unit and its district must share to compare them
EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
HOUR_NS = 3_600_000_000_000


def hour_and_day_type(local_labels: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The local clock hour (0-23) and day type of each hour label `YYYY-MM-DDTHH:MM:SS+HH:MM`."""
    labels = local_labels.astype(str)
    hour = labels.str.slice(11, 13).astype(int)
    weekday = pd.to_datetime(labels.str.slice(0, 10), format="%Y-%m-%d").dt.day_of_week
    day_type = pd.Series(np.where(weekday >= 5, "weekend", "weekday"), index=labels.index)
    return hour, day_type


def _to_energy(values: pd.Series) -> pd.Series:
    return np.power(10.0, values / 10.0)


def _from_energy(values):
    return 10.0 * np.log10(values)


def profiles(frame: pd.DataFrame, site: str, value: str, energetic: bool = False) -> pd.DataFrame:
    """Per `site` value (rows), the mean of `value` by (day type, hour) (columns), over the valid hours.

    `frame` has the columns `site`, `local_time_from` and `value`; a row whose value is
    missing is left out. `energetic`: average levels in dB by energy. Columns: every
    (day type, hour) pair, in order; a pair without any value is NaN.
    """
    keep = frame[[site, "local_time_from", value]].dropna(subset=[value])
    hour, day_type = hour_and_day_type(keep["local_time_from"])
    values = _to_energy(keep[value]) if energetic else keep[value].astype(float)
    grouped = pd.DataFrame({"site": keep[site].to_numpy(), "day_type": day_type.to_numpy(),
                            "hour": hour.to_numpy(), "v": values.to_numpy()})
    table = grouped.groupby(["site", "day_type", "hour"])["v"].mean().unstack(["day_type", "hour"])
    columns = pd.MultiIndex.from_product([DAY_TYPES, HOURS], names=["day_type", "hour"])
    table = table.reindex(columns=columns)
    table.index.name = site
    return _from_energy(table) if energetic else table


def district_profiles(frame: pd.DataFrame, site: str, value: str, district_of: Mapping[str, int],
                      energetic: bool = False) -> pd.DataFrame:
    """Per district (rows), the mean of every valid hour of its units by (day type, hour) (pooled, not a mean of means)."""
    keep = frame[[site, "local_time_from", value]].copy()
    keep["district"] = keep[site].map(district_of)
    keep = keep.dropna(subset=["district"])
    keep["district"] = keep["district"].astype(int)
    return profiles(keep, "district", value, energetic)


def median_profiles(unit_profiles: pd.DataFrame, district_of: Mapping[str, int]) -> pd.DataFrame:
    """Per district (rows), the median of its units' profiles at each (day type, hour)."""
    districts = unit_profiles.index.map(lambda u: district_of.get(u))
    known = unit_profiles[pd.notna(districts)]
    return known.groupby(districts[pd.notna(districts)].astype(int)).median()


@dataclass(frozen=True)
class Difference:
    """How unlike its district's median profile a unit is: RMS difference, relative to the median's mean, hours compared."""

    site: str
    district: int
    rms: float | None
    relative: float | None
    hours: int


def differences(unit_profiles: pd.DataFrame, district_of: Mapping[str, int],
                min_hours: int = MIN_PROFILE_HOURS) -> list[Difference]:
    """Every unit's RMS difference from its district's median profile, largest first (unknown ones last)."""
    medians = median_profiles(unit_profiles, district_of)
    out = []
    for site, row in unit_profiles.iterrows():
        district = district_of.get(site)
        if district is None or district not in medians.index:
            continue
        median = medians.loc[district].to_numpy(dtype=float)
        mine = row.to_numpy(dtype=float)
        both = ~np.isnan(mine) & ~np.isnan(median)
        n = int(both.sum())
        if n < min_hours:
            out.append(Difference(site, int(district), None, None, n))
            continue
        rms = float(np.sqrt(np.mean((mine[both] - median[both]) ** 2)))
        scale = float(np.mean(median[both]))
        out.append(Difference(site, int(district), rms, rms / scale if scale > 0 else None, n))
    return sorted(out, key=lambda d: (d.rms is None, -(d.rms or 0.0), d.site))


@dataclass(frozen=True)
class Lagged:
    """Pearson's r at the best lag (h, positive: indoor follows outdoor), r at lag 0, and the matched hours of each."""

    lag_h: int | None
    r: float | None
    pairs: int
    r_at_0: float | None
    pairs_at_0: int
    curve: tuple[tuple[int, float | None, int], ...] = ()  # (lag, r, matched hours) for every lag, ascending


def pearson(x: Iterable[float], y: Iterable[float]) -> float | None:
    """Pearson's correlation of paired values (None with fewer than two pairs or a constant side)."""
    a, b = np.asarray(list(x), dtype=float), np.asarray(list(y), dtype=float)
    if len(a) < 2:
        return None
    da, db = a - a.mean(), b - b.mean()
    denominator = math.sqrt(float(np.dot(da, da)) * float(np.dot(db, db)))
    if denominator == 0:
        return None
    return float(np.dot(da, db) / denominator)


def _pairs(hours_in: np.ndarray, values_in: np.ndarray, hours_out: np.ndarray, values_out: np.ndarray,
           lag_h: int) -> tuple[np.ndarray, np.ndarray]:
    # outdoor(t - lag) is the outdoor value whose hour start plus the lag is t: match on timestamps.
    _, i, o = np.intersect1d(hours_in, hours_out + lag_h * HOUR_NS, assume_unique=True, return_indices=True)
    return values_in[i], values_out[o]


def lagged_correlation(indoor: pd.Series, outdoor: pd.Series, max_lag_h: int = MAX_LAG_H,
                       min_pairs: int = MIN_PAIRS) -> Lagged:
    """The lag in −max..+max hours maximising Pearson's r of indoor(t) with outdoor(t − lag).

    Both series are indexed by the hour's UTC start in ns (`date_observed_from`),
    one value per hour; missing hours are simply absent (or NaN).
    """
    indoor = indoor.dropna().groupby(level=0).mean()  # one value per hour
    outdoor = outdoor.dropna().groupby(level=0).mean()
    arrays = (indoor.index.to_numpy(dtype="int64"), indoor.to_numpy(dtype=float),
              outdoor.index.to_numpy(dtype="int64"), outdoor.to_numpy(dtype=float))
    best: tuple[float, int, int] | None = None  # (r, lag, pairs)
    curve: dict[int, tuple[int, float | None, int]] = {}
    for lag in sorted(range(-max_lag_h, max_lag_h + 1), key=lambda k: (abs(k), -k)):
        x, y = _pairs(*arrays, lag)
        r = pearson(x, y) if len(x) >= min_pairs else None
        curve[lag] = (lag, r, len(x))
        if r is not None and (best is None or r > best[0] + 1e-12):
            best = (r, lag, len(x))
    ordered = tuple(curve[k] for k in sorted(curve))
    _, r_0, pairs_0 = curve[0]
    if best is None:
        return Lagged(None, None, pairs_0, r_0, pairs_0, ordered)
    return Lagged(best[1], best[0], best[2], r_0, pairs_0, ordered)


def reading(result: Lagged, strong: float = 0.6, weak: float = 0.3) -> str:
    """A plain-language reading of a correlation: `follows` (r ≥ 0.6), `partly` (0.3 ≤ r < 0.6),
    `independent` (r < 0.3) or `unknown` (too few matched hours)."""
    if result.r is None:
        return "unknown"
    if result.r >= strong:
        return "follows"
    return "partly" if result.r >= weak else "independent"


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def nearest(lon: float, lat: float, places: Iterable[tuple[str, float, float]]) -> tuple[str, float] | None:
    """The (id, distance in m) of the place nearest to (lon, lat) among (id, lon, lat); ties: the smallest id."""
    best = None
    for place_id, plon, plat in places:
        d = distance_m(lon, lat, plon, plat)
        if best is None or (d, place_id) < (best[1], best[0]):
            best = (place_id, d)
    return best


def hourly_series(frame: pd.DataFrame, value: str, site: str | None = None, site_id: str | None = None) -> pd.Series:
    """One hourly series indexed by UTC hour start (ns): `value` of `site_id` (or every row), the mean of
    the rows of the same hour (e.g. a school's rooms), missing values left out."""
    rows = frame if site is None else frame[frame[site] == site_id]
    rows = rows[["date_observed_from", value]].dropna(subset=[value])
    starts = _ns(rows["date_observed_from"])
    series = pd.Series(rows[value].to_numpy(dtype=float), index=starts)
    return series.groupby(level=0).mean().sort_index()


def _ns(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(column):
        return column.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]").astype("int64").to_numpy() \
            if getattr(column.dt, "tz", None) is not None else column.astype("datetime64[ns]").astype("int64").to_numpy()
    return column.astype("int64").to_numpy()
