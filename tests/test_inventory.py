"""Tests for iotorino.core.inventory: the committed fleet loads, lookups and tags, and clear errors on broken files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

import jsonschema
import pytest
import yaml

from iotorino.core import catalogue, inventory, paths
from iotorino.core.errors import ConfigError, Rejected
from iotorino.core.inventory import InventoryError

SCHEMA_FILES = sorted(paths.SCHEMAS.glob("*.schema.json"))


@pytest.fixture(scope="module")
def fleet() -> inventory.Inventory:
    """The committed inventory."""
    return inventory.default()


@pytest.fixture(scope="module")
def measurements() -> catalogue.Catalogue:
    """The committed catalogue."""
    return catalogue.default()


BEACON_SIGHTING = {
    "site": "beacon",
    "fiware_entity": "Device",
    "description": "One beacon as heard by one gateway over one window.",
    "tags": {"beacon": "Beacon id.", "gateway": "Gateway id."},
    "fields": {"sightings": {"unit": "count", "label": "advertisements", "range": [1, 100000], "kind": "gauge",
                             "type": "integer", "fiware": "sightings", "description": "Advertisements heard."}},
}


def catalogue_with(tmp_path: Path, name: str, spec: dict) -> catalogue.Catalogue:
    """The committed catalogue plus measurement `name`."""
    document = yaml.safe_load((paths.SCHEMAS / "catalogue.yaml").read_text(encoding="utf-8"))
    document["measurements"][name] = spec
    path = tmp_path / "catalogue.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return catalogue.load(path)


@pytest.fixture(scope="module")
def fleet_with_beacon_measurement(tmp_path_factory: pytest.TempPathFactory) -> inventory.Inventory:
    """The committed inventory, read with a catalogue that has a beacon measurement."""
    return inventory.load(catalogue=catalogue_with(tmp_path_factory.mktemp("cat"), "beacon_sighting", BEACON_SIGHTING))


# --- the committed data ---------------------------------------------------------------------------


def test_default_is_loaded_once() -> None:
    assert inventory.default() is inventory.default()


@pytest.mark.parametrize("schema_file", SCHEMA_FILES, ids=lambda p: p.name)
def test_schemas_are_valid_draft_2020_12(schema_file: Path) -> None:
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_catalogue_matches_its_schema() -> None:
    schema = json.loads((paths.SCHEMAS / "catalogue.schema.json").read_text(encoding="utf-8"))
    document = yaml.safe_load((paths.SCHEMAS / "catalogue.yaml").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(document)


def test_counts(fleet: inventory.Inventory) -> None:
    assert len(fleet.street_units) == 500
    assert len(fleet.schools) == 40
    assert len(fleet.beacons) == 500
    assert {"street-full", "street-air", "street-noise", "classroom", "school-outdoor", "school-meter"} <= set(
        fleet.profiles
    )


def test_every_non_beacon_measurement_is_in_some_profile(
    fleet: inventory.Inventory, measurements: catalogue.Catalogue
) -> None:
    profiled = {m for p in fleet.profiles.values() for m in p.measurements}
    wanted = {m.name for m in measurements.measurements.values() if m.site not in ("beacon", "gateway")}
    assert wanted <= profiled


def test_profile_quantities_use_catalogue_units_and_ranges(
    fleet: inventory.Inventory, measurements: catalogue.Catalogue
) -> None:
    for profile in fleet.profiles.values():
        for measurement in profile.measurements:
            spec = measurements.measurement(measurement)
            quantities = profile.quantities(measurement)
            assert set(quantities) == set(spec.fields), (profile.id, measurement)
            for name, quantity in quantities.items():
                field = spec.fields[name]
                assert quantity.unit == field.unit
                assert field.low <= quantity.low <= quantity.high <= field.high
                assert quantity.accuracy


def _devices(fleet: inventory.Inventory) -> list[tuple[str, str, str | None]]:
    """One (site, site_id, point) of every kind of device, every profile in use."""
    devices: list[tuple[str, str, str | None]] = [("street", u.id, None) for u in fleet.street_units.values()]
    for school in fleet.schools.values():
        devices += [("school", school.id, r.id) for r in school.rooms]
        devices += [("school", school.id, m.id) for m in school.meters]
        devices.append(("school", school.id, inventory.OUTDOOR))
    return devices


def test_tag_keys_equal_catalogue_tags_for_every_profile_and_measurement(
    fleet: inventory.Inventory, measurements: catalogue.Catalogue
) -> None:
    seen_profiles = set()
    for site, site_id, point in _devices(fleet):
        profile = fleet.profile_of(site, site_id, point)
        if profile.id in seen_profiles:
            continue
        seen_profiles.add(profile.id)
        for measurement in profile.measurements:
            tags = fleet.tags_for(site, site_id, point, measurement)
            assert set(tags) == set(measurements.measurement(measurement).tags), (profile.id, measurement)
    assert seen_profiles == set(fleet.profiles)
    for measurement in fleet.beacon_measurements:
        tags = fleet.tags_for("beacon", "TO-BC-0001", "GW-01", measurement)
        assert set(tags) == set(measurements.measurement(measurement).tags)
    assert fleet.gateway_measurements == ("ble_gateway",)
    assert fleet.tags_for("gateway", "GW-01", None, "ble_gateway") == {"gateway": "GW-01"}


@pytest.mark.parametrize("site_id, point, measurement, reason", [
    ("GW 01", None, "ble_gateway", "unknown_topic"),
    ("GW-01", "extra", "ble_gateway", "unknown_topic"),
    ("GW-01", None, "beacon_sighting", "not_in_profile"),
])
def test_gateway_topics_name_a_usable_id_and_a_gateway_measurement(fleet, site_id, point, measurement, reason):
    with pytest.raises(Rejected) as caught:
        fleet.tags_for("gateway", site_id, point, measurement)
    assert caught.value.reason == reason


# --- lookups -------------------------------------------------------------------------------------


def test_street_tags(fleet: inventory.Inventory) -> None:
    unit = fleet.street_units["TO-SU-0001"]
    measurement = fleet.profiles[unit.profile].measurements[0]
    assert fleet.tags_for("street", unit.id, None, measurement) == {"unit": unit.id, "district": str(unit.district)}


def test_school_tags_for_room_meter_and_outdoor(fleet: inventory.Inventory) -> None:
    school = fleet.schools["TO-SC-01"]
    room, meter = school.rooms[0], school.meters[0]
    assert fleet.tags_for("school", school.id, room.id, "indoor_climate") == {"school": school.id, "room": room.id}
    assert fleet.tags_for("school", school.id, meter.id, "energy") == {"school": school.id, "meter": meter.id}
    assert fleet.tags_for("school", school.id, "outdoor", "outdoor_climate") == {"school": school.id}


def test_beacon_tags(fleet_with_beacon_measurement: inventory.Inventory) -> None:
    fleet = fleet_with_beacon_measurement
    assert "beacon_sighting" in fleet.beacon_measurements
    tags = fleet.tags_for("beacon", "TO-BC-0001", "GW-07", "beacon_sighting")
    assert tags == {"beacon": "TO-BC-0001", "gateway": "GW-07"}
    assert set(tags) == set(BEACON_SIGHTING["tags"])


def test_beacon_measurement_with_other_tags_is_refused(tmp_path: Path) -> None:
    spec = {**BEACON_SIGHTING, "tags": {"beacon": "Beacon id.", "mac": "Advertiser address."}}
    with pytest.raises(InventoryError, match=r"catalogue.yaml: measurements.beacon_sighting.tags.*accepted: beacon, gateway"):
        inventory.load(catalogue=catalogue_with(tmp_path, "beacon_sighting", spec))


def test_tags_are_a_fresh_dict(fleet: inventory.Inventory) -> None:
    fleet.tags_for("school", "TO-SC-01", "outdoor", "outdoor_climate")["school"] = "changed"
    assert fleet.tags_for("school", "TO-SC-01", "outdoor", "outdoor_climate") == {"school": "TO-SC-01"}


@pytest.mark.parametrize(
    ("args", "reason", "field", "accepted_part"),
    [
        (("street", "TO-SU-9999", None, "noise"), "unknown_device", "unit", "TO-SU-"),
        (("street", "TO-SU-0001", "R01", "noise"), "unknown_topic", "point", "iotorino/v1/street/"),
        (("school", "TO-SC-99", "R01", "indoor_climate"), "unknown_device", "school", "TO-SC-"),
        (("school", "TO-SC-01", "R99", "indoor_climate"), "unknown_device", "point", "R01"),
        (("school", "TO-SC-01", None, "indoor_climate"), "unknown_device", "point", "outdoor"),
        (("school", "TO-SC-01", "R01", "energy"), "not_in_profile", "measurement", "indoor_climate"),
        (("school", "TO-SC-01", "M1", "indoor_climate"), "not_in_profile", "measurement", "energy"),
        (("school", "TO-SC-01", "outdoor", "indoor_climate"), "not_in_profile", "measurement", "outdoor_climate"),
        (("lake", "X", None, "noise"), "unknown_topic", "site", "street, school"),
        (("beacon", "TO-BC-9999", "GW-01", "beacon_sighting"), "unknown_device", "beacon", "TO-BC-"),
        (("beacon", "TO-BC-0001", None, "beacon_sighting"), "unknown_topic", "gateway", "letters, digits"),
        (("beacon", "TO-BC-0001", "gw 1", "beacon_sighting"), "unknown_topic", "gateway", "letters, digits"),
        (("beacon", "TO-BC-0001", "GW-01", "noise"), "not_in_profile", "measurement", "beacon_sighting"),
    ],
)
def test_tags_for_rejects(
    fleet_with_beacon_measurement: inventory.Inventory, args: tuple, reason: str, field: str, accepted_part: str
) -> None:
    with pytest.raises(Rejected) as caught:
        fleet_with_beacon_measurement.tags_for(*args)
    assert caught.value.reason == reason
    assert caught.value.field == field
    assert accepted_part in caught.value.accepted


def test_street_measurement_not_in_profile(fleet: inventory.Inventory) -> None:
    unit = next(u for u in fleet.street_units.values() if u.profile == "street-air")
    with pytest.raises(Rejected) as caught:
        fleet.tags_for("street", unit.id, None, "noise")
    assert (caught.value.reason, caught.value.value) == ("not_in_profile", "noise")
    assert caught.value.accepted == "air_quality, weather"


def test_profile_of_and_intervals(fleet: inventory.Inventory) -> None:
    school = fleet.schools["TO-SC-01"]
    assert fleet.profile_of("school", school.id, school.meters[0].id).id == "school-meter"
    classroom = fleet.profile_of("school", school.id, school.rooms[0].id)
    assert classroom.measurements == ("indoor_climate",)
    assert classroom.interval_s("indoor_climate") == 300
    assert classroom.interval_s("noise") is None
    assert fleet.profiles["street-air"].measurements == ("air_quality", "weather")
    with pytest.raises(Rejected):
        fleet.profile_of("street", "nope", None)


def test_beacon_lookups(fleet: inventory.Inventory) -> None:
    ibeacon = next(b for b in fleet.beacons.values() if b.ibeacon_uuid)
    eddystone = next(b for b in fleet.beacons.values() if b.eddystone_namespace)
    found = fleet.beacon_by_ibeacon(ibeacon.ibeacon_uuid.upper(), ibeacon.ibeacon_major, ibeacon.ibeacon_minor)
    assert found is ibeacon
    assert fleet.beacon_by_eddystone(eddystone.eddystone_namespace.upper(), eddystone.eddystone_instance) is eddystone
    assert fleet.beacon_by_ibeacon(ibeacon.ibeacon_uuid, ibeacon.ibeacon_major, 0) is None
    assert fleet.beacon_by_eddystone(eddystone.eddystone_namespace, "000000000000") is None


def test_beacon_frame_mix(fleet: inventory.Inventory) -> None:
    kinds = [(b.ibeacon_uuid is not None, b.eddystone_namespace is not None) for b in fleet.beacons.values()]
    assert kinds.count((True, False)) > 0
    assert kinds.count((False, True)) > 0
    assert kinds.count((True, True)) > len(kinds) / 2
    assert all(b.host_unit in fleet.street_units for b in fleet.beacons.values())


# --- broken inventories --------------------------------------------------------------------------

Mutation = Callable[[Any], None]


def _set(path: list, value: Any) -> Mutation:
    def mutate(document: Any) -> None:
        for key in path[:-1]:
            document = document[key]
        document[path[-1]] = value

    return mutate


def _copy_item(section: str, source: int, target: int, key: str) -> Mutation:
    def mutate(document: Any) -> None:
        document[section][target][key] = document[section][source][key]

    return mutate


def _drop_sensor(profile: str, index: int) -> Mutation:
    def mutate(document: Any) -> None:
        del document["profiles"][profile]["sensors"][index]

    return mutate


BROKEN = {
    "unknown unit profile": (
        "street_units.json", _set(["units", 0, "profile"], "street-xl"),
        ["street_units.json", "units[0].profile", "no such profile", "'street-xl'", "street-full"],
    ),
    "unit profile of another site": (
        "street_units.json", _set(["units", 3, "profile"], "classroom"),
        ["units[3].profile", "needs street", "'classroom'"],
    ),
    "duplicate unit id": (
        "street_units.json", _copy_item("units", 0, 1, "id"),
        ["units[1].id", "duplicate id, already used at units[0].id", "'TO-SU-0001'"],
    ),
    "district out of range (schema)": (
        "street_units.json", _set(["units", 2, "district"], 9),
        ["street_units.json", "units[2].district", "street_units.schema.json", "9"],
    ),
    "id not fit for a topic (schema)": (
        "street_units.json", _set(["units", 2, "id"], "TO/SU 3"),
        ["units[2].id", "'TO/SU 3'"],
    ),
    "impossible date": (
        "street_units.json", _set(["units", 5, "installed"], "2021-02-30"),
        ["units[5].installed", "is not a 'date'", "'2021-02-30'"],
    ),
    "unit not the catalogue's": (
        "profiles.yaml", _set(["profiles", "street-full", "sensors", 0, "quantities", "pm1", "unit"], "mg/m3"),
        ["profiles.yaml", "profiles.street-full.sensors[0].quantities.pm1.unit", "'mg/m3'", "accepted: ug/m3"],
    ),
    "unknown measurement": (
        "profiles.yaml", _set(["profiles", "classroom", "sensors", 0, "measurement"], "indoor_air"),
        ["profiles.classroom.sensors[0].measurement", "no such measurement", "'indoor_air'", "indoor_climate"],
    ),
    "field not in the measurement": (
        "profiles.yaml",
        _set(["profiles", "school-meter", "sensors", 0, "quantities", "reactive_power"],
             {"unit": "var", "range": [0, 1], "accuracy": "±1 %"}),
        ["quantities.reactive_power", "not a field of measurement energy", "total_active_power"],
    ),
    "range beyond the catalogue's": (
        "profiles.yaml", _set(["profiles", "classroom", "sensors", 0, "quantities", "co2", "range"], [0, 40000]),
        ["profiles.classroom.sensors[0].quantities.co2.range", "[0, 40000]", "250 <= min <= max <= 10000 ppm"],
    ),
    "field not covered": (
        "profiles.yaml", _drop_sensor("street-air", 6),
        ["profiles.street-air.sensors", "no sensor measures these fields of weather", "['precipitation']"],
    ),
    "intervals differ within a measurement": (
        "profiles.yaml", _set(["profiles", "street-air", "sensors", 5, "interval_s"], 60),
        ["profiles.street-air.sensors[5].interval_s", "one reporting interval", "accepted: 600"],
    ),
    "measurement of another site": (
        "profiles.yaml", _set(["profiles", "classroom", "sensors", 0, "measurement"], "weather"),
        ["profiles.classroom.sensors[0].measurement", "reported by street sites", "'weather'"],
    ),
    "measurement tagged for another kind of point": (
        "profiles.yaml", _set(["profiles", "classroom", "sensors", 0, "measurement"], "outdoor_climate"),
        ["profiles.classroom.sensors[0].measurement", "catalogue tags ['school'] differ", "accepted: school, room"],
    ),
    "unknown room profile": (
        "schools.json", _set(["schools", 1, "rooms", 0, "profile"], "lab"),
        ["schools.json", "schools[1].rooms[0].profile", "'lab'", "classroom"],
    ),
    "outdoor profile of another site": (
        "schools.json", _set(["schools", 0, "outdoor", "profile"], "school-meter"),
        ["schools[0].outdoor.profile", "needs school_outdoor", "'school-meter'"],
    ),
    "meter id equal to a room id": (
        "schools.json", _set(["schools", 0, "meters", 0, "id"], "R01"),
        ["schools[0].meters[0].id", "already used at schools[0].rooms[0].id", "'R01'"],
    ),
    "unknown host unit": (
        "beacons.json", _set(["beacons", 7, "host_unit"], "TO-SU-9999"),
        ["beacons.json", "beacons[7].host_unit", "no such street unit", "'TO-SU-9999'"],
    ),
    "duplicate beacon id": (
        "beacons.json", _copy_item("beacons", 0, 9, "id"),
        ["beacons[9].id", "duplicate id", "'TO-BC-0001'"],
    ),
}


def _first_with(key: str) -> Callable[[Any], tuple[int, int]]:
    def pick(document: Any) -> tuple[int, int]:
        found = [i for i, b in enumerate(document["beacons"]) if key in b]
        return found[0], found[1]

    return pick


@pytest.fixture
def hardware_copy(tmp_path: Path) -> Path:
    """A copy of the committed inventory files, to break."""
    for name in ("profiles.yaml", "street_units.json", "schools.json", "beacons.json"):
        shutil.copy(paths.HARDWARE / name, tmp_path / name)
    return tmp_path


def _edit(root: Path, name: str, mutate: Mutation) -> None:
    path = root / name
    if name.endswith(".yaml"):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        mutate(document)
        path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    else:
        document = json.loads(path.read_text(encoding="utf-8"))
        mutate(document)
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


def test_unchanged_copy_loads(hardware_copy: Path) -> None:
    assert inventory.load(hardware_copy) == inventory.default()


@pytest.mark.parametrize("case", BROKEN)
def test_broken_inventory_is_named_precisely(hardware_copy: Path, case: str) -> None:
    name, mutate, expected = BROKEN[case]
    _edit(hardware_copy, name, mutate)
    with pytest.raises(InventoryError) as caught:
        inventory.load(hardware_copy)
    message = str(caught.value)
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"
    assert isinstance(caught.value, ConfigError)
    assert caught.value.file.endswith(name)


@pytest.mark.parametrize(
    ("frame", "keys", "what"),
    [("ibeacon", ["minor", "major", "uuid"], "iBeacon uuid/major/minor"),
     ("eddystone", ["instance", "namespace"], "Eddystone namespace/instance")],
)
def test_duplicate_beacon_identity(hardware_copy: Path, frame: str, keys: list[str], what: str) -> None:
    def mutate(document: Any) -> None:
        first, second = _first_with(frame)(document)
        for key in keys:
            document["beacons"][second][frame][key] = document["beacons"][first][frame][key]
        mutate.where = f"beacons[{second}].{frame}"  # type: ignore[attr-defined]

    _edit(hardware_copy, "beacons.json", mutate)
    with pytest.raises(InventoryError, match=f"duplicate {what}, already used at beacons") as caught:
        inventory.load(hardware_copy)
    assert caught.value.path == mutate.where  # type: ignore[attr-defined]


def test_unreadable_and_malformed_files(hardware_copy: Path) -> None:
    (hardware_copy / "schools.json").write_text('{"version": 1,', encoding="utf-8")
    with pytest.raises(InventoryError, match="schools.json.*not valid YAML/JSON"):
        inventory.load(hardware_copy)
    (hardware_copy / "schools.json").unlink()
    with pytest.raises(InventoryError, match="schools.json.*cannot read the file"):
        inventory.load(hardware_copy)


def test_a_document_found_valid_is_not_validated_again_but_a_changed_one_is(tmp_path, monkeypatch) -> None:
    """The validation cache (var/cache/inventory-valid.txt) is keyed by schema, document and jsonschema."""
    from iotorino.core import inventory_files

    monkeypatch.setattr(inventory_files, "VALID_CACHE", tmp_path / "valid.txt")
    inventory_files._valid.cache_clear()
    copy = tmp_path / "hardware"
    shutil.copytree(paths.HARDWARE, copy)
    inventory.load(copy)
    assert len((tmp_path / "valid.txt").read_text().split()) == 4
    inventory_files._valid.cache_clear()  # as a new process would
    calls = []
    real = inventory_files.validator
    monkeypatch.setattr(inventory_files, "validator", lambda text: calls.append(text) or real(text))
    inventory.load(copy)
    assert calls == []
    units = json.loads((copy / "street_units.json").read_text())
    units["units"][0]["district"] = 99
    (copy / "street_units.json").write_text(json.dumps(units))
    with pytest.raises(InventoryError, match="units\\[0\\].district"):
        inventory.load(copy)
    assert len(calls) == 1
    inventory_files._valid.cache_clear()
