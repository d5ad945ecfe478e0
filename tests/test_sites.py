"""Tests for iotorino.core.sites: the registry of site kinds and one name per device in every layer."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError

import pytest

from iotorino.core import catalogue, contract, inventory, paths, sites
from iotorino.core.sites import DeviceRef
from iotorino.export import quality
from ingest.mqtt import fastpath

FLEET = inventory.default()


def test_kinds_are_registered_once_with_distinct_tag_sets() -> None:
    assert list(sites.KINDS) == ["street", "school_room", "school_meter", "school_outdoor", "beacon", "gateway"]
    tag_sets = [frozenset(k.tags) for k in sites.KINDS.values()]
    assert len(set(tag_sets)) == len(tag_sets)
    assert sites.topic_sites() == ("street", "school", "beacon", "gateway")
    assert sites.topic_sites(profiled=True) == ("street", "school")


def test_profile_sites_of_the_schema_are_the_profiled_kinds() -> None:
    schema = json.loads((paths.SCHEMAS / "profiles.schema.json").read_text(encoding="utf-8"))
    enum = schema["$defs"]["profile"]["properties"]["site"]["enum"]
    assert enum == [k.name for k in sites.KINDS.values() if k.profiled]


def test_catalogue_tags_are_those_of_the_kinds_reporting_there() -> None:
    for spec in catalogue.default().measurements.values():
        kinds = [k for k in sites.KINDS.values() if k.topic_site == spec.site]
        assert kinds, spec.name
        assert set(spec.tags) in [set(k.tags) for k in kinds], spec.name


@pytest.mark.parametrize("ref, label, topic, tags", [
    (DeviceRef.of(sites.STREET, "TO-SU-0001", district="2"), "TO-SU-0001",
     "iotorino/v1/street/TO-SU-0001/noise", {"unit": "TO-SU-0001", "district": "2"}),
    (DeviceRef.of(sites.SCHOOL_ROOM, "TO-SC-01", "R12"), "TO-SC-01/R12",
     "iotorino/v1/school/TO-SC-01/R12/noise", {"school": "TO-SC-01", "room": "R12"}),
    (DeviceRef.of(sites.SCHOOL_METER, "TO-SC-01", "M1"), "TO-SC-01/M1",
     "iotorino/v1/school/TO-SC-01/M1/noise", {"school": "TO-SC-01", "meter": "M1"}),
    (DeviceRef.of(sites.SCHOOL_OUTDOOR, "TO-SC-01"), "TO-SC-01/outdoor",
     "iotorino/v1/school/TO-SC-01/outdoor/noise", {"school": "TO-SC-01"}),
    (DeviceRef.of(sites.BEACON, "TO-BC-0001").for_gateway("GW-1"), "TO-BC-0001",
     "iotorino/v1/beacon/TO-BC-0001/GW-1/noise", {"beacon": "TO-BC-0001", "gateway": "GW-1"}),
    (DeviceRef.of(sites.GATEWAY, "GW-1"), "GW-1", "iotorino/v1/gateway/GW-1/noise", {"gateway": "GW-1"}),
])
def test_each_kind_has_its_label_topic_and_tags(ref: DeviceRef, label: str, topic: str, tags: dict) -> None:
    assert (ref.label, ref.topic("noise"), ref.tag_dict()) == (label, topic, tags)
    assert contract.parse(topic) == ref.address("noise")
    assert sites.label_of(tags) == label
    assert sites.label_of({**tags, "time_source": "receive"}) == label


def test_a_beacon_topic_needs_the_gateway_that_heard_it() -> None:
    beacon = DeviceRef.of(sites.BEACON, "TO-BC-0001")
    with pytest.raises(ValueError, match="gateway"):
        beacon.topic("beacon_sighting")
    with pytest.raises(ValueError, match="gateway"):
        DeviceRef.of(sites.STREET, "TO-SU-0001").for_gateway("GW-1")


def test_device_refs_are_frozen_and_hashable() -> None:
    ref = DeviceRef.of(sites.STREET, "TO-SU-0001", district="2")
    with pytest.raises(FrozenInstanceError):
        ref.site_id = "other"  # type: ignore[misc]
    assert len({ref, DeviceRef.of(sites.STREET, "TO-SU-0001", district="2")}) == 1


def test_unknown_kind_names_the_registered_ones() -> None:
    with pytest.raises(KeyError, match="street, school_room"):
        sites.kind("lamp_post")


def test_every_device_has_one_name_in_topics_metrics_and_the_quality_report() -> None:
    """From the inventory's device to the tags its readings get, and back to one label everywhere."""
    devices = list(FLEET.devices())
    assert len(devices) == len(FLEET.street_units) + sum(
        len(s.rooms) + len(s.meters) + 1 for s in FLEET.schools.values())
    assert len({d.label for d in devices}) == len(devices)
    for device in devices:
        for measurement in FLEET.profiles[device.profile].measurements:
            address = contract.parse(device.topic(measurement))
            tags = FLEET.tags_for(address.site, address.site_id, address.point, measurement)
            assert tags == device.tag_dict()
            assert fastpath.device_label(tags) == quality.device_id(tags) == device.label


def test_outdoor_station_has_the_same_name_in_metrics_and_quality_report() -> None:
    school = next(iter(FLEET.schools.values()))
    tags = FLEET.tags_for("school", school.id, sites.OUTDOOR, "outdoor_climate")
    assert fastpath.device_label(tags) == quality.device_id(tags) == f"{school.id}/outdoor"


def test_devices_installed_by_a_day_leave_out_later_street_units() -> None:
    first = min(u.installed for u in FLEET.street_units.values())
    street = [d for d in FLEET.devices(installed_by=first) if d.kind is sites.STREET]
    assert {d.site_id for d in street} == {u.id for u in FLEET.street_units.values() if u.installed == first}
