"""City-wide conditions every simulated device shares: Turin's weather, traffic and school hours.

Pure functions of (seed, local time): two devices asking about the same
instant see the same weather and the same traffic, so neighbouring sensors
agree. Day-to-day variation (a warm spell, a rainy day, a smog episode) is
drawn once per calendar day from the seed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from iotorino.core import school_calendar

# Turin (Torino Caselle / city stations), climatological daily minimum and
# maximum air temperature per month, °C, January first.
MONTHLY_MIN_C = (-1.5, 0.0, 4.0, 7.5, 12.0, 16.0, 18.0, 17.5, 14.0, 9.0, 4.0, 0.0)
MONTHLY_MAX_C = (7.0, 9.5, 14.0, 17.5, 22.0, 26.5, 29.0, 28.0, 23.5, 17.5, 11.0, 7.5)
# Mean relative humidity per month, % (Po valley winters are damp and foggy).
MONTHLY_RH = (76, 70, 66, 68, 70, 67, 64, 67, 71, 78, 81, 79)
# Probability that a day is rainy, per month.
MONTHLY_RAIN_P = (0.20, 0.20, 0.25, 0.33, 0.37, 0.30, 0.20, 0.24, 0.23, 0.27, 0.30, 0.20)
# Station-level pressure at ~240 m a.s.l., hPa.
STATION_PRESSURE_HPA = 986.0
# Lessons: every school opens at 08:00; secondary schools end at 13:30,
# infanzia and primaria (tempo pieno) at 16:30, with lunch 12:30-13:30.
LESSONS_START_H = 8.0
LESSONS_END_H = {"infanzia": 16.5, "primaria": 16.5, "secondaria_1": 13.5, "secondaria_2": 13.5}
LUNCH_IN_SCHOOL = ("infanzia", "primaria")
# Heating season of climate zone E (Turin): 15 October to 15 April.
HEATING_FROM = (10, 15)
HEATING_TO = (4, 15)


@dataclass(frozen=True)
class Day:
    """One calendar day's draw: how it departs from the month's climate."""

    temperature_anomaly_c: float
    rainy: bool
    rain_mm_per_h: float
    pressure_anomaly_hpa: float
    wind_mean_ms: float
    wind_from_deg: float
    stagnation: float  # multiplies particulate levels: >1 on still, foggy days


@lru_cache(maxsize=4096)
def day(seed: int, when: date) -> Day:
    """The seed's weather draw for calendar day `when` (the same for every device)."""
    rng = random.Random(f"{seed}/day/{when.isoformat()}")
    rainy = rng.random() < MONTHLY_RAIN_P[when.month - 1]
    wind = rng.uniform(0.8, 3.0) * (1.6 if rainy else 1.0)
    stagnation = rng.lognormvariate(0.0, 0.3) * (0.6 if rainy else 1.0) / (0.6 + 0.25 * wind)
    return Day(
        temperature_anomaly_c=rng.gauss(0.0, 2.5),
        rainy=rainy,
        rain_mm_per_h=rng.uniform(0.3, 2.5) if rainy else 0.0,
        pressure_anomaly_hpa=rng.gauss(-6.0 if rainy else 2.0, 5.0),
        wind_mean_ms=wind,
        wind_from_deg=rng.choice((45.0, 90.0, 225.0, 250.0, 270.0)) + rng.uniform(-30, 30),
        stagnation=stagnation,
    )


def hour_of_day(t: datetime) -> float:
    """Local hours since midnight, e.g. 8.5 at 08:30."""
    return t.hour + t.minute / 60 + t.second / 3600


def _month_blend(table: tuple, t: datetime) -> float:
    """Interpolate a per-month table between mid-months."""
    position = (t.month - 1) + (t.day - 15.5) / 30.5
    low = math.floor(position)
    frac = position - low
    return table[low % 12] * (1 - frac) + table[(low + 1) % 12] * frac


def _diurnal_temperature_shape(h: float) -> float:
    """0 at the 06:00 minimum, 1 at the 15:00 maximum, cosine in between."""
    if 6 <= h <= 15:
        return 0.5 - 0.5 * math.cos(math.pi * (h - 6) / 9)
    since_max = (h - 15) % 24
    return 0.5 + 0.5 * math.cos(math.pi * since_max / 15)


def summer_weight(t: datetime) -> float:
    """0 in winter, 1 in late July: how much sun drives ozone and warmth."""
    doy = t.timetuple().tm_yday
    return max(0.0, math.cos(2 * math.pi * (doy - 200) / 365))


def outdoor_temperature(seed: int, t: datetime) -> float:
    """City air temperature, °C."""
    d = day(seed, t.date())
    low, high = _month_blend(MONTHLY_MIN_C, t), _month_blend(MONTHLY_MAX_C, t)
    amplitude = (high - low) * (0.55 if d.rainy else 1.0)
    return low + d.temperature_anomaly_c + amplitude * _diurnal_temperature_shape(hour_of_day(t))


def outdoor_humidity(seed: int, t: datetime) -> float:
    """City relative humidity, % (highest at dawn, lowest mid-afternoon)."""
    d = day(seed, t.date())
    base = _month_blend(MONTHLY_RH, t) + (12 if d.rainy else 0)
    swing = 12 * (_diurnal_temperature_shape(hour_of_day(t)) - 0.5)
    return min(99.0, max(20.0, base - swing))


def pressure(seed: int, t: datetime) -> float:
    """Station-level pressure, hPa, with a gentle semidiurnal tide."""
    tide = 0.6 * math.cos(4 * math.pi * (hour_of_day(t) - 10) / 24)
    return STATION_PRESSURE_HPA + day(seed, t.date()).pressure_anomaly_hpa + tide


def traffic(t: datetime) -> float:
    """Road traffic, 0 (deserted) to ~1 (weekday rush hour): peaks at 08:00 and 18:00 on weekdays."""
    h = hour_of_day(t)
    daytime = 1 / (1 + math.exp(-(h - 6.5) * 2)) * 1 / (1 + math.exp((h - 21.5) * 1.5))
    weekday = t.weekday()
    if weekday < 5:
        peaks = 0.45 * math.exp(-((h - 8.0) / 1.1) ** 2) + 0.4 * math.exp(-((h - 18.0) / 1.5) ** 2)
        return 0.08 + 0.5 * daytime + peaks
    scale = 0.75 if weekday == 5 else 0.55
    return 0.08 + scale * (0.35 * daytime + 0.35 * math.exp(-((h - 12.5) / 3.5) ** 2))


def school_open(t: datetime) -> bool:
    """Whether t falls on a school day: Monday to Friday outside holidays (iotorino.core.school_calendar)."""
    return t.weekday() < 5 and school_day_kind(t.date()) == school_calendar.SCHOOL


@lru_cache(maxsize=4096)
def school_day_kind(when: date) -> str:
    """`school`, `weekend` or `holiday` for a primaria of Turin (the calendar's classification)."""
    return school_calendar.default().day(when).kind


def pupils_present(level: str, t: datetime) -> float:
    """Fraction of a classroom's pupils in the room: 1 in lessons, 0 outside, lower at break and lunch."""
    if not school_open(t):
        return 0.0
    h = hour_of_day(t)
    end = LESSONS_END_H.get(level, LESSONS_END_H["secondaria_1"])
    if not LESSONS_START_H <= h < end:
        return 0.0
    if 10.25 <= h < 10.5:  # morning break (intervallo): most pupils in the corridor
        return 0.3
    if level in LUNCH_IN_SCHOOL and 12.5 <= h < 13.5:  # lunch in the canteen
        return 0.05
    return 1.0


def heating_on(t: datetime) -> bool:
    """Whether the heating season (zone E, 15 October to 15 April included) covers t's date."""
    md = (t.month, t.day)
    return md >= HEATING_FROM or md <= HEATING_TO


@lru_cache(maxsize=4096)
def daily_mean_temperature(seed: int, when: date) -> float:
    """The day's mean outdoor temperature (mean of the 24 hourly values), °C."""
    midnight = datetime(when.year, when.month, when.day)
    return sum(outdoor_temperature(seed, midnight.replace(hour=h)) for h in range(24)) / 24


@dataclass(frozen=True)
class HeatingDay:
    """A school's heating schedule for one day: on or off, from and to (local hours), and injected waste."""

    on: bool
    start_h: float = 0.0
    end_h: float = 0.0
    waste: str | None = None  # weekend | holiday | warm_day | early_start | out_of_season


WARM_DAY_C = 16.0  # a weather-compensated plant stays off when the day's mean reaches this


def heating_plan(seed: int, school_id: str, level: str, when: date) -> HeatingDay:
    """When a school's heating runs on `when`, with waste injected on known days (deterministic per seed).

    Normal: on school days of the heating season, from 2 hours before lessons to their end, off on warm
    days where the plant is weather-compensated (70 % of schools). Waste: heating left on at a weekend
    or in a holiday (8 % of such days in season), started at 03:00 (6 % of school days), on outside the
    season (2 % of school days in the weeks around it), and on warm days in the other 30 % of schools.
    """
    rng = random.Random(f"{seed}/heat-waste/{school_id}/{when.isoformat()}")
    compensated = random.Random(f"{seed}/heat-controls/{school_id}").random() < 0.7
    draw = rng.random()
    start, end = LESSONS_START_H - 2.0, LESSONS_END_H.get(level, LESSONS_END_H["secondaria_1"])
    kind = school_day_kind(when) if when.weekday() < 5 else "weekend"
    in_season = heating_on(datetime(when.year, when.month, when.day))
    if not in_season:
        near = (when.month == 4 and when.day > 15) or when.month == 5 or (when.month == 10 and when.day < 15)
        if kind == school_calendar.SCHOOL and near and draw < 0.02:
            return HeatingDay(True, start, end, "out_of_season")
        return HeatingDay(False)
    if kind != school_calendar.SCHOOL:
        if draw < 0.08:
            return HeatingDay(True, start, end, "weekend" if kind == "weekend" else "holiday")
        return HeatingDay(False)
    warm = daily_mean_temperature(seed, when) >= WARM_DAY_C
    if warm:
        return HeatingDay(False) if compensated else HeatingDay(True, start, end, "warm_day")
    if draw < 0.06:
        return HeatingDay(True, 3.0, end, "early_start")
    return HeatingDay(True, start, end)


@lru_cache(maxsize=16384)
def _raining_in_hour(seed: int, when: date, hour: int) -> bool:
    return random.Random(f"{seed}/rain/{when.isoformat()}/{hour}").random() < 0.45


def rain_rate(seed: int, t: datetime) -> float:
    """Rain intensity across the city, mm/h: a rainy day rains in showers, about 45% of its hours."""
    d = day(seed, t.date())
    if not d.rainy or not _raining_in_hour(seed, t.date(), t.hour):
        return 0.0
    return d.rain_mm_per_h
