"""Register → interval consumption: normal rises, roll-overs, meter changes, spikes, partial hours."""

from __future__ import annotations

import pytest

from iotorino.schools.registers import RegisterSeries, register_modulus, step_consumption

H = 3600 * 1_000_000_000
MAX_KW = 2000.0  # the catalogue's total_active_power maximum, 2 MW
EIGHT_DIGITS = register_modulus(99_999_999)  # the school-meter profile's register range [0, 99999999]


@pytest.mark.parametrize(
    "previous, current, seconds, modulus, expected",
    [
        (1200.0, 1201.5, 900, EIGHT_DIGITS, (1.5, "ok")),
        (99_999_998.0, 2.0, 900, EIGHT_DIGITS, (4.0, "rollover")),
        (99_999.0, 2.0, 900, 100_000.0, (3.0, "rollover")),           # a five-digit register's profile
        (99_999.0, 2.0, 900, EIGHT_DIGITS, (None, "reset")),           # the digits of a reading are no range
        (999_990.5, 0.5, 900, register_modulus(999_999.99), (10.0, "rollover")),
        (54_321.0, 0.75, 900, EIGHT_DIGITS, (None, "reset")),          # a meter change books no spike
        (54_321.0, 70_000.0, 900, EIGHT_DIGITS, (None, "implausible")),  # a new meter that starts high
        (54_321.0, 30_000.0, 900, EIGHT_DIGITS, (None, "reset")),
        (99_999_998.0, 2.0, 900, None, (None, "reset")),               # no profile: no roll-over guessed
    ],
)
def test_step_consumption(previous, current, seconds, modulus, expected):
    used, what = step_consumption(previous, current, seconds, MAX_KW, modulus)
    assert (pytest.approx(used) if used is not None else None, what) == expected


def test_spreads_intervals_over_hours_in_proportion_and_never_goes_negative():
    series = RegisterSeries(start_ns=0, end_ns=3 * H, max_kw=MAX_KW)
    # lookback reading before the window, 10 kWh per 30 min, then a reset to 0.
    for t, v in [(-H // 2, 100.0), (H // 2, 110.0), (H + H // 2, 120.0), (2 * H, 0.0), (2 * H + H // 2, 5.0)]:
        series.add(t, v)
    kwh = {h // H: e.kwh for h, e in series.hours.items()}
    # -30..30 min: 10 kWh, half of it in hour 0; 30..90 min: 10 kWh, 5 in hour 0 and 5 in hour 1;
    # 90..120 min: a meter change, nothing attributed; 120..150: 5 kWh in hour 2.
    assert kwh == pytest.approx({0: 10.0, 1: 5.0, 2: 5.0})
    assert series.hours[2 * H].discontinuities == 1
    covered = {h // H: e.covered_ns / H for h, e in series.hours.items()}
    assert covered == pytest.approx({0: 1.0, 1: 0.5, 2: 0.5})  # hours 1 and 2 are partial
    assert all(e.kwh >= 0 for e in series.hours.values())


def test_long_gap_is_not_attributed():
    series = RegisterSeries(start_ns=0, end_ns=6 * H, max_kw=MAX_KW)
    series.add(0, 10.0)
    series.add(5 * H, 20.0)
    assert series.hours[5 * H].readings == 1
    assert not series.hours[5 * H].attributed
    assert series.hours[0].kwh == 0.0


@pytest.mark.parametrize("high, modulus", [(99_999_999, 100_000_000.0), (999_999.99, 1_000_000.0),
                                            (9_999.9, 10_000.0), (1e8, 100_000_001.0)])
def test_register_modulus_from_the_profile_range(high, modulus):
    assert register_modulus(high) == pytest.approx(modulus)
