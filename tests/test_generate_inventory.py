"""Tests for hardware/generate_inventory.py: reproducible output and plausible Turin data."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from iotorino.core import paths

GENERATED = ("street_units.json", "schools.json", "beacons.json")
ID_PATTERN = re.compile(r"^[A-Za-z0-9-]+$")
# Turin's municipal area, generously: degrees east / north.
TURIN_LON = (7.58, 7.77)
TURIN_LAT = (45.00, 45.14)


@pytest.fixture(scope="module")
def committed() -> dict[str, dict]:
    """The committed generated files, parsed, by file name."""
    return {name: json.loads((paths.HARDWARE / name).read_text(encoding="utf-8")) for name in GENERATED}


def test_generator_reproduces_the_committed_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(paths.HARDWARE / "generate_inventory.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(paths.ROOT), "PYTHONHASHSEED": "random"},
    )
    for name in GENERATED:
        assert (tmp_path / name).read_bytes() == (paths.HARDWARE / name).read_bytes(), (
            f"{name} differs from a fresh run: run `python hardware/generate_inventory.py` and commit the result"
        )


def test_counts(committed: dict[str, dict]) -> None:
    assert 450 <= len(committed["street_units.json"]["units"]) <= 550
    assert 35 <= len(committed["schools.json"]["schools"]) <= 45
    assert len(committed["beacons.json"]["beacons"]) == 500


def _places(committed: dict[str, dict]) -> list[dict]:
    return (
        committed["street_units.json"]["units"]
        + committed["schools.json"]["schools"]
        + committed["beacons.json"]["beacons"]
    )


def test_every_place_is_inside_turin(committed: dict[str, dict]) -> None:
    for place in _places(committed):
        assert TURIN_LON[0] <= place["lon"] <= TURIN_LON[1], place["id"]
        assert TURIN_LAT[0] <= place["lat"] <= TURIN_LAT[1], place["id"]
        assert round(place["lon"], 6) == place["lon"] and round(place["lat"], 6) == place["lat"]


def test_every_district_has_units_and_schools(committed: dict[str, dict]) -> None:
    assert set(u["district"] for u in committed["street_units.json"]["units"]) == set(range(1, 9))
    assert set(s["district"] for s in committed["schools.json"]["schools"]) == set(range(1, 9))


def test_districts_lie_roughly_where_they_are(committed: dict[str, dict]) -> None:
    units = committed["street_units.json"]["units"]

    def centre(district: int) -> tuple[float, float]:
        mine = [u for u in units if u["district"] == district]
        return sum(u["lon"] for u in mine) / len(mine), sum(u["lat"] for u in mine) / len(mine)

    # Centro (1) lies between San Paolo (3) to the west and Vanchiglia (7) to the east,
    # south of Barriera di Milano (6) and north of Lingotto (8).
    assert centre(3)[0] < centre(1)[0] < centre(7)[0]
    assert centre(8)[1] < centre(1)[1] < centre(6)[1]


def test_ids_fit_topics_and_tags(committed: dict[str, dict]) -> None:
    for school in committed["schools.json"]["schools"]:
        for point in school["rooms"] + school["meters"]:
            assert ID_PATTERN.match(point["id"])
        assert school["outdoor"] == {"profile": "school-outdoor"}
    for place in _places(committed):
        assert ID_PATTERN.match(place["id"])


def test_beacons_share_city_identities_and_some_hosts_carry_two(committed: dict[str, dict]) -> None:
    beacons = committed["beacons.json"]["beacons"]
    assert len({b["ibeacon"]["uuid"] for b in beacons if "ibeacon" in b}) == 1
    assert len({b["eddystone"]["namespace"] for b in beacons if "eddystone" in b}) == 1
    per_host = Counter(b["host_unit"] for b in beacons)
    assert max(per_host.values()) == 2
    assert 0 < sum(1 for n in per_host.values() if n == 2) < len(per_host)
    units = {u["id"]: u for u in committed["street_units.json"]["units"]}
    for beacon in beacons:
        host = units[beacon["host_unit"]]
        assert abs(beacon["lon"] - host["lon"]) < 0.0001 and abs(beacon["lat"] - host["lat"]) < 0.0001
        assert beacon["installed"] >= host["installed"]
        if "ibeacon" in beacon:
            assert beacon["ibeacon"]["major"] == host["district"]


def test_school_sizes_are_plausible(committed: dict[str, dict]) -> None:
    for school in committed["schools.json"]["schools"]:
        area_per_pupil = school["floor_area_m2"] / school["pupils"]
        assert 5 <= area_per_pupil <= 12, school["id"]
        assert school["rooms"] and school["meters"][0]["id"] == "M1"
