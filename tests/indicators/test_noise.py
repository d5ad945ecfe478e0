"""Noise levels: L_den against a worked example, the night across midnight, DST nights, coverage."""

from __future__ import annotations

import math
import random
from datetime import date, datetime, timedelta

import pytest

from iotorino.indicators import limits, noise
from tests.indicators import reference as ref

RULES = limits.default().noise
STEP_MIN = 5
NS = 1_000_000_000


def test_lden_worked_example():
    # L_day 65, L_evening 60, L_night 55 dB(A), Italian periods 14/2/8 h:
    # (14·10^6.5 + 2·10^6.5 + 8·10^6.5) / 24 = 10^6.5, so L_den = 65.0 exactly.
    assert noise.lden(65.0, 60.0, 55.0, RULES) == pytest.approx(65.0, abs=1e-9)
    # L_day 70, L_evening 65, L_night 62: 10·lg((14·10^7 + 2·10^7 + 8·10^7.2)/24) = 70.7735... dB
    assert noise.lden(70.0, 65.0, 62.0, RULES) == pytest.approx(
        10 * math.log10((14e7 + 2e7 + 8 * 10**7.2) / 24), abs=1e-9)
    assert noise.lden(70.0, 65.0, 62.0, RULES) == pytest.approx(70.7735, abs=1e-4)


def test_energetic_mean_is_not_the_arithmetic_mean():
    assert noise.energetic_mean([60.0, 80.0]) == pytest.approx(10 * math.log10((1e6 + 1e8) / 2))  # 77.03, not 70
    assert noise.energetic_mean([]) is None


def readings(start_local: datetime, hours: int, seed: int, skip=lambda t: False) -> list[tuple[datetime, float]]:
    """LAeq every 5 minutes from `start_local` for `hours` real hours, with a traffic-like daily cycle."""
    rng = random.Random(seed)
    out = []
    t = start_local.astimezone(ref.UTC)
    for _ in range(hours * 12):
        local_hour = t.astimezone(ref.ROME).hour
        base = 50 if local_hour < 6 or local_hour >= 22 else (66 if local_hour < 20 else 60)
        if not skip(t):
            out.append((t, round(base + rng.gauss(0, 3), 1)))
        t += timedelta(minutes=STEP_MIN)
    return out


def library_day(day: date, data: list[tuple[datetime, float]]) -> noise.NoiseDay:
    times = [int(t.timestamp()) * NS for t, _ in data]
    return noise.noise_day(day, times, [v for _, v in data], STEP_MIN * 60, RULES)


def reference_day(day: date, data):
    d = lambda dd, h: datetime(dd.year, dd.month, dd.day, h, tzinfo=ref.ROME)  # noqa: E731
    nxt = day + timedelta(days=1)
    return {
        "day": ref.period_level(data, d(day, 6), d(day, 20), STEP_MIN),
        "evening": ref.period_level(data, d(day, 20), d(day, 22), STEP_MIN),
        "night": ref.period_level(data, d(day, 22), d(nxt, 6), STEP_MIN),
        "dpcm_day": ref.period_level(data, d(day, 6), d(day, 22), STEP_MIN),
        "dpcm_night": ref.period_level(data, d(day, 22), d(nxt, 6), STEP_MIN),
    }


def assert_same(got: noise.NoiseDay, want: dict):
    pairs = {"day": got.den["day"], "evening": got.den["evening"], "night": got.den["night"],
             "dpcm_day": got.dpcm["day"], "dpcm_night": got.dpcm["night"]}
    for name, level in pairs.items():
        want_level, want_coverage = want[name]
        assert level.coverage == pytest.approx(want_coverage), name
        assert (level.level is None) is (want_level is None), name
        if want_level is not None:
            assert level.level == pytest.approx(want_level), name
    parts = [want[p][0] for p in ("day", "evening", "night")]
    if None in parts:
        assert got.lden is None
    else:
        assert got.lden == pytest.approx(ref.lden(*parts))


@pytest.mark.parametrize("day, night_hours", [
    (date(2026, 11, 20), 8),
    (date(2026, 3, 28), 7),  # the night of Saturday 28 March runs into the spring change: 7 real hours
    (date(2026, 10, 24), 9),  # the night of Saturday 24 October runs into the autumn change: 9 real hours
])
def test_a_day_and_its_night_across_midnight(day, night_hours):
    # Data from the evening before to the morning after: only 06:00 D .. 06:00 D+1 counts.
    start = datetime(day.year, day.month, day.day, tzinfo=ref.ROME) - timedelta(hours=4)
    data = readings(start, 40, seed=day.toordinal())
    got = library_day(day, data)
    assert_same(got, reference_day(day, data))
    night = got.den["night"]
    assert (night.end_ns - night.start_ns) // (3600 * NS) == night_hours
    assert night.readings == night_hours * 12 and night.coverage == 1.0
    # The night belongs to the day it starts on: it ends at 06:00 the next day.
    end = datetime.fromtimestamp(night.end_ns // NS, ref.UTC).astimezone(ref.ROME)
    assert (end.date(), end.hour) == (day + timedelta(days=1), 6)
    assert got.lden is not None


def test_a_period_under_75_percent_is_invalid_and_so_is_lden():
    day = date(2026, 11, 20)
    start = datetime(2026, 11, 20, 6, tzinfo=ref.ROME)
    # Lose 2 hours 15 minutes of the 8-hour night: 71.9 % covered.
    gap_from = datetime(2026, 11, 21, 1, tzinfo=ref.ROME).astimezone(ref.UTC)
    data = readings(start, 24, seed=3, skip=lambda t: gap_from <= t < gap_from + timedelta(minutes=135))
    got = library_day(day, data)
    assert_same(got, reference_day(day, data))
    assert got.den["night"].level is None and got.den["night"].coverage == pytest.approx(345 / 480)
    assert got.dpcm["night"].level is None and got.lden is None
    assert got.den["day"].level is not None


def test_year_to_date_levels_are_energetic_over_the_valid_days_and_need_three_quarters_of_them():
    rng = random.Random(11)
    days = 40
    daily = []
    for k in range(days):
        night = None if k % 9 == 0 else round(rng.uniform(45, 60), 1)  # 5 nights of 40 invalid: 87.5 % valid
        daily.append({"day": round(rng.uniform(60, 72), 1), "evening": round(rng.uniform(58, 68), 1), "night": night})
    ytd = noise.year_to_date(daily, days, RULES)
    nights = [d["night"] for d in daily if d["night"] is not None]
    want = {"day": ref.energetic([d["day"] for d in daily]), "evening": ref.energetic([d["evening"] for d in daily]),
            "night": ref.energetic(nights)}
    assert ytd.levels == pytest.approx(want)
    assert ytd.lden == pytest.approx(ref.lden(want["day"], want["evening"], want["night"]))
    assert ytd.capture["night"] == len(nights) / days and ytd.min_capture == len(nights) / days
    # Only the days with data so far (the rest of the elapsed days had none): below 75 %, no number.
    short = noise.year_to_date(daily[:20], days, RULES)
    assert short.levels == {"day": None, "evening": None, "night": None} and short.lden is None
    assert short.capture["day"] == 0.5
