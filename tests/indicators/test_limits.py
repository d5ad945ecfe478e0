"""The rules file: valid against its schema, the values the directives set, and clear errors when edited wrongly."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml

from iotorino.core import paths
from iotorino.core.errors import ConfigError
from iotorino.indicators import limits


def raw() -> dict:
    return yaml.safe_load((paths.SCHEMAS / limits.LIMITS_FILE).read_text(encoding="utf-8"))


def test_the_file_is_valid_against_its_schema():
    schema = json.loads((paths.SCHEMAS / limits.SCHEMA_FILE).read_text(encoding="utf-8"))
    jsonschema.validate(raw(), schema)


def by_id(regime: str) -> dict[str, limits.Limit]:
    return {x.id: x for x in limits.default().regime(regime).limits}


def test_the_limits_in_force_and_from_2030():
    now, later = by_id("dir2008_50"), by_id("dir2024_2881_2030")
    assert [(x.value, x.allowed) for x in (now["pm10_daily"], now["pm10_annual"], now["no2_hourly"], now["no2_annual"],
                                            now["pm25_annual"])] == [(50, 35), (40, None), (200, 18), (40, None), (25, None)]
    assert [(x.value, x.allowed) for x in (later["no2_hourly"], later["no2_daily"], later["no2_annual"], later["pm25_daily"],
                                            later["pm25_annual"], later["pm10_daily"], later["pm10_annual"])] == [
        (200, 3), (50, 18), (20, None), (25, 18), (10, None), (45, 18), (20, None)]
    alert = next(t for t in limits.default().regime("dir2008_50").thresholds if t.id == "no2_alert")
    assert (alert.value, alert.consecutive, alert.averaging) == (400, 3, "hour")
    assert limits.default().regime("dir2008_50").applies_to(2026)
    assert not limits.default().regime("dir2024_2881_2030").applies_to(2026)


def test_an_edit_outside_the_schema_names_the_key(tmp_path):
    broken = raw()
    broken["regimes"][0]["limits"][0]["allowed"] = "thirty-five"
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        limits.load(path)
    assert "regimes/0/limits/0/allowed" in str(err.value) and "thirty-five" in str(err.value)


def test_band_edges_must_rise(tmp_path):
    broken = raw()
    broken["eaqi"]["upper"]["no2"] = [10, 25, 20, 100, 150]
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    with pytest.raises(ConfigError, match="eaqi/upper/no2"):
        limits.load(path)


def test_an_amendment_is_an_edit(tmp_path):
    amended = raw()
    amended["regimes"][0]["limits"][0]["allowed"] = 30
    path = tmp_path / "limits.yaml"
    path.write_text(yaml.safe_dump(amended), encoding="utf-8")
    assert limits.load(path).regime("dir2008_50").limits[0].allowed == 30
