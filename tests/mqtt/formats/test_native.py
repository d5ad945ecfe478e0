"""The native decoder and the pipeline around it: readings out, or a rejection naming field and value."""

from __future__ import annotations

import json

import pytest

from ingest.mqtt.pipeline import Limits, Pipeline, Route
from iotorino.core import catalogue, inventory
from iotorino.core.errors import Rejected
from iotorino.core.reading import Reading

NOW = 1_794_995_200_000_000_000  # 2026-11-18T09:46:40Z
INV = inventory.default()
UNIT = next(u for u in INV.street_units.values() if "air_quality" in INV.profiles[u.profile].measurements)
AIR_TOPIC = f"iotorino/v1/street/{UNIT.id}/air_quality"
# A message as a street unit sends it.
STREET_AIR_PAYLOAD = b'{"time": "2026-11-18T09:45:00.000Z", "fields": {"pm25": 14.2, "pm10": 22.8, "no2": 48}}'


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline([Route("iotorino/v1/#", "native")], catalogue.default(), INV, Limits())


def test_street_message(pipeline):
    [reading] = pipeline.process(AIR_TOPIC, STREET_AIR_PAYLOAD, NOW)
    assert reading == Reading("air_quality", {"unit": UNIT.id, "district": str(UNIT.district)},
                              {"pm25": 14.2, "pm10": 22.8, "no2": 48.0}, NOW - 100 * 10**9)
    assert not reading.time_is_fallback


def test_missing_time_falls_back_to_receive_time_and_is_flagged(pipeline):
    [reading] = pipeline.process(AIR_TOPIC, b'{"fields": {"pm25": 3.0}}', NOW)
    assert reading.time_ns == NOW and reading.time_is_fallback
    assert reading.tags["time_source"] == "receive"


def _rejection(pipeline, topic, payload) -> Rejected:
    with pytest.raises(Rejected) as caught:
        pipeline.process(topic, payload, NOW)
    return caught.value


@pytest.mark.parametrize("payload, reason, field, value", [
    (b"\xff\xfe", "undecodable", "payload", b"\xff\xfe"),
    (b"{not json", "undecodable", "payload", b"{not json"),
    (b"[1, 2]", "undecodable", "payload", [1, 2]),
    (b'{"fields": {}}', "schema", "fields", {}),
    (b'{"time": "2026-11-18T09:45:00Z"}', "schema", "fields", None),
    (b'{"fields": {"pm25": 1}, "seq": 4}', "schema", "seq", 4),
    (b'{"time": "2026-11-18 09:45", "fields": {"pm25": 1}}', "bad_time", "time", "2026-11-18 09:45"),
    (b'{"time": "2026-11-18T09:45:00Z", "fields": {"pm25": -1}}', "out_of_range", "pm25", -1),
    (b'{"time": "2026-11-18T09:45:00Z", "fields": {"pm25": "high"}}', "type", "pm25", "high"),
    (b'{"time": "2026-11-18T09:45:00Z", "fields": {"temperature": 3}}', "unknown_field", "temperature", 3),
    (b'{"time": "2026-11-19T09:45:00Z", "fields": {"pm25": 1}}', "time_in_future", "time", "2026-11-19T09:45:00.000Z"),
    (b'{"time": "2026-01-01T00:00:00Z", "fields": {"pm25": 1}}', "time_too_old", "time", "2026-01-01T00:00:00.000Z"),
])
def test_bad_payloads(pipeline, payload, reason, field, value):
    rejection = _rejection(pipeline, AIR_TOPIC, payload)
    assert (rejection.reason, rejection.field, rejection.value) == (reason, field, value)
    assert field in str(rejection)


def test_unknown_device_and_measurement_outside_profile(pipeline):
    unknown = _rejection(pipeline, "iotorino/v1/street/TO-SU-9999/air_quality", STREET_AIR_PAYLOAD)
    assert (unknown.reason, unknown.value) == ("unknown_device", "TO-SU-9999")
    absent = next(m for m in catalogue.default().measurements if m not in INV.profiles[UNIT.profile].measurements)
    outside = _rejection(pipeline, f"iotorino/v1/street/{UNIT.id}/{absent}", STREET_AIR_PAYLOAD)
    assert outside.reason in {"not_in_profile", "unknown_device"} and outside.value == absent


def test_oversized_payload(pipeline):
    payload = json.dumps({"fields": {"pm25": 1.0}, "pad": "x" * 70_000}).encode()
    rejection = _rejection(pipeline, AIR_TOPIC, payload)
    assert rejection.reason == "oversized" and "65536" in str(rejection)


def test_topic_without_route(pipeline):
    assert _rejection(pipeline, "sensors/x", b"{}").reason == "unknown_topic"
