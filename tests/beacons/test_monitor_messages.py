"""The monitor's reading of gateway messages: any time the collector accepts, and no sighting lost to one odd value."""

from __future__ import annotations

import json

import pytest

from iotorino.beacons.monitor import HEARTBEATS_TOPIC, SIGHTINGS_TOPIC, parse_reading
from iotorino.core import contract
from iotorino.core.errors import Rejected

BEACON_TOPIC = contract.beacon_topic("TO-BC-0001", "GW-01", "beacon_sighting")
T = 1_794_995_100  # 2026-11-18T09:45:00Z
# A window as a gateway publishes it, with the time as Unix seconds (which the collector also accepts).
UNIX_SIGHTING = json.dumps({"time": T, "fields": {"sightings": 14, "rssi_median": -70.5, "measured_power": -59.0}})


def test_the_monitor_subscribes_to_the_contracts_topic_families():
    assert SIGHTINGS_TOPIC == "iotorino/v1/beacon/+/+/beacon_sighting"
    assert HEARTBEATS_TOPIC == "iotorino/v1/gateway/+/ble_gateway"


@pytest.mark.parametrize("time", [T, float(T), "2026-11-18T09:45:00Z", "2026-11-18t09:45:00.000000000z"])
def test_a_sighting_with_any_time_the_collector_accepts_is_read(time):
    payload = json.dumps({"time": time, "fields": {"sightings": 14}}).encode()
    reading, left_out = parse_reading(BEACON_TOPIC, payload)
    assert left_out == []
    assert reading.time_ns == T * 10**9 and reading.tags == {"beacon": "TO-BC-0001", "gateway": "GW-01"}


@pytest.mark.parametrize("payload", [b"[]", b'{"fields": {"sightings": 1}}', b'{"time": "noon", "fields": {}}',
                                     b"\xff", b'{"time": 1794995100, "fields": {"sightings": 1}, "x": 1}'])
def test_anything_else_is_a_rejection_never_another_exception(payload):
    with pytest.raises(Rejected):
        parse_reading(BEACON_TOPIC, payload)


def test_an_odd_advertised_power_leaves_the_sighting_standing():
    odd = json.loads(UNIX_SIGHTING)
    odd["fields"]["measured_power"] = 90.0
    reading, left_out = parse_reading(BEACON_TOPIC, json.dumps(odd).encode())
    assert reading.fields["sightings"] == 14 and "measured_power" not in reading.fields
    assert [(e.reason, e.field) for e in left_out] == [("out_of_range", "measured_power")]
