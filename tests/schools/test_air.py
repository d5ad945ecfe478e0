"""Classroom air KPIs against plain recomputation."""

from __future__ import annotations

import numpy as np
import pytest

from iotorino.schools import air


@pytest.mark.parametrize("ppm, band", [(400, "good"), (999.9, "good"), (1000, "fair"), (1499, "fair"),
                                       (1500, "poor"), (2000, "bad"), (5000, "bad")])
def test_bands(ppm, band):
    assert air.co2_band(ppm) == band


def test_band_shares_and_means_count_teaching_hours_only():
    ppm = np.array([800, 1200, 1600, 2500, np.nan, 3000, 900, 1100])
    teaching = np.array([True, True, True, True, True, False, False, True])
    shares = air.co2_band_shares(ppm, teaching)
    kept = [v for v, t in zip(ppm, teaching) if t and not np.isnan(v)]
    assert shares == pytest.approx({"good": 1 / 5, "fair": 2 / 5, "poor": 1 / 5, "bad": 1 / 5})
    assert air.teaching_mean(ppm, teaching) == pytest.approx(sum(kept) / len(kept))
    assert air.co2_band_shares(ppm, np.zeros(8, bool))["good"] is None


def test_temperature_and_humidity_shares():
    temps = np.array([17.9, 18.0, 21.0, 22.0, 22.1])
    rh = np.array([25.0, 30.0, 45.0, 60.0, 61.0])
    teaching = np.ones(5, bool)
    assert air.temperature_shares(temps, teaching) == pytest.approx(
        {"cold": 0.2, "comfortable": 0.6, "warm": 0.2})
    assert air.humidity_share(rh, teaching) == pytest.approx(0.6)
