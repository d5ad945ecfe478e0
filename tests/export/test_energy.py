"""Register → interval consumption: normal rises, roll-overs, resets, spikes, hour spreading."""

from __future__ import annotations

import pytest

from iotorino.export.energy import RegisterSeries, step_consumption

H = 3600 * 1_000_000_000
MAX_KW = 2000.0  # the catalogue's total_active_power maximum, 2 MW


@pytest.mark.parametrize(
    "previous, current, seconds, expected",
    [
        (1200.0, 1201.5, 900, (1.5, "ok")),
        (99_999.0, 2.0, 900, (3.0, "rollover")),
        (999_990.5, 0.5, 900, (10.0, "rollover")),
        (54_321.0, 0.75, 900, (0.75, "reset")),
        (54_321.0, 70_000.0, 900, (None, "implausible")),  # a new meter that starts high
        (54_321.0, 30_000.0, 900, (None, "implausible")),  # falls, neither roll-over nor reset to 0
    ],
)
def test_step_consumption(previous, current, seconds, expected):
    used, what = step_consumption(previous, current, seconds, MAX_KW)
    assert (pytest.approx(used) if used is not None else None, what) == expected


def test_spreads_intervals_over_hours_in_proportion_and_never_goes_negative():
    series = RegisterSeries(start_ns=0, end_ns=3 * H, max_kw=MAX_KW)
    # lookback reading before the window, 10 kWh per 30 min, then a reset to 0.
    for t, v in [(-H // 2, 100.0), (H // 2, 110.0), (H + H // 2, 120.0), (2 * H, 0.0), (2 * H + H // 2, 5.0)]:
        series.add(t, v)
    kwh = {h // H: e.kwh for h, e in series.hours.items()}
    # -30..30 min: 10 kWh, half of it in hour 0; 30..90 min: 10 kWh, 5 in hour 0 and 5 in hour 1;
    # 90..120 min: reset, 0 kWh since 0 counted in hour 1; 120..150: 5 kWh in hour 2.
    assert kwh == pytest.approx({0: 10.0, 1: 5.0, 2: 5.0})
    assert series.hours[2 * H].discontinuities == 1
    assert all(e.kwh >= 0 for e in series.hours.values())


def test_long_gap_is_not_attributed():
    series = RegisterSeries(start_ns=0, end_ns=6 * H, max_kw=MAX_KW)
    series.add(0, 10.0)
    series.add(5 * H, 20.0)
    assert series.hours[5 * H].readings == 1
    assert not series.hours[5 * H].attributed
    assert series.hours[0].kwh == 0.0
