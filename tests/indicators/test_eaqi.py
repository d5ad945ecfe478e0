"""The European Air Quality Index (2024 bands) against the band table restated here."""

from __future__ import annotations

import pytest

from iotorino.indicators import eaqi, limits

INDEX = limits.default().eaqi
# EEA EAQI 2024 (https://airindex.eea.europa.eu/AQI/index.html): upper edges of bands 1-5, µg/m³.
TABLE = {
    "pm25": (5, 15, 50, 90, 140),
    "pm10": (15, 45, 120, 195, 270),
    "no2": (10, 25, 60, 100, 150),
    "o3": (60, 100, 120, 160, 180),
    "so2": (20, 40, 125, 190, 275),
}


def plain_band(pollutant: str, value: float) -> int:
    level = 1
    for edge in TABLE[pollutant]:
        if value > edge:
            level += 1
    return level


@pytest.mark.parametrize("pollutant", sorted(TABLE))
def test_every_band_and_edge(pollutant):
    for edge in TABLE[pollutant]:
        for value in (edge - 0.1, edge, edge + 0.1):
            assert eaqi.band(INDEX, pollutant, value) == plain_band(pollutant, value)
    assert eaqi.band(INDEX, pollutant, 0) == 1 and eaqi.band(INDEX, pollutant, 10_000) == 6


def test_the_poorest_valid_pollutant_sets_the_index():
    hour = eaqi.index_hour(INDEX, {"pm25": 12.0, "pm10": 50.0, "no2": 61.0, "o3": None})
    assert (hour.level, hour.pollutant) == (4, "no2")
    assert hour.levels == {"pm25": 2, "pm10": 3, "no2": 4}
    assert eaqi.index_hour(INDEX, {"no2": None}).level is None
    assert [b.name_it for b in INDEX.bands][:2] == ["buona", "discreta"] and INDEX.version == "EEA EAQI, 2024 bands"
