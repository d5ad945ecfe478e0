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


# -- the contract: UTF-8 JSON only, reasons that say what failed --------------------------------------------

UTF16_PAYLOADS = [STREET_AIR_PAYLOAD.decode().encode(codec) for codec in ("utf-16", "utf-16-le", "utf-16-be",
                                                                          "utf-32")]


@pytest.mark.parametrize("payload", UTF16_PAYLOADS)
def test_utf16_and_utf32_payloads_are_rejected(pipeline, payload):
    rejection = _rejection(pipeline, AIR_TOPIC, payload)
    assert rejection.reason == "undecodable" and "UTF-16 or UTF-32, not UTF-8" in rejection.detail


def test_a_byte_order_mark_is_rejected(pipeline):
    rejection = _rejection(pipeline, AIR_TOPIC, b"\xef\xbb\xbf" + STREET_AIR_PAYLOAD)
    assert rejection.reason == "undecodable" and "byte order mark" in rejection.detail


@pytest.mark.parametrize("payload, words", [
    (b'{"time": "2026-11-18T09:45:00Z", "fields": {"pm25": 1' + b"0" * 5000 + b"}}", "more than 4300 digits"),
    (b'{"fields": ' + b"[" * 20_000 + b"]" * 20_000 + b"}", "nesting is too deep"),
    (b'{"fields": {"pm25": 1, "\\ud800": 2}}', "lone UTF-16 surrogate"),
    (b'{"fields": {"pm25": 1,}}', "not JSON (Expecting property name"),
    (b'{"fields": {"pm25": \xff}}', "not UTF-8 (invalid start byte at byte 20)"),
])
def test_reasons_say_what_failed_and_never_call_valid_json_not_utf8(pipeline, payload, words):
    rejection = _rejection(pipeline, AIR_TOPIC, payload)
    assert rejection.reason == "undecodable" and words in rejection.detail
    if b"\xff" not in payload:
        assert "not UTF-8" not in rejection.detail


@pytest.mark.parametrize("time, expected_ns", [
    ("2026-11-18t09:45:00z", NOW - 100 * 10**9),  # RFC 3339 allows lower case
    ("2026-11-18T09:45:00.123456789Z", NOW - 100 * 10**9 + 123_456_789),  # nanoseconds kept
])
def test_rfc3339_forms_the_old_parser_refused_or_cut(pipeline, time, expected_ns):
    payload = json.dumps({"time": time, "fields": {"pm25": 3.0}}).encode()
    assert pipeline.encode(AIR_TOPIC, payload, NOW).time_ns == expected_ns
    [reading] = pipeline.process(AIR_TOPIC, payload, NOW)
    assert reading.time_ns == expected_ns


@pytest.mark.parametrize("time", ["20261118T094500Z", "2026-W47-3T09:45:00Z", "2026-322T09:45:00Z",
                                  "2026-11-18T09:45:00,5Z", "2026-11-18T09:45:00"])
def test_iso8601_forms_outside_rfc3339_are_rejected(pipeline, time):
    rejection = _rejection(pipeline, AIR_TOPIC, json.dumps({"time": time, "fields": {"pm25": 3.0}}).encode())
    assert (rejection.reason, rejection.field, rejection.value) == ("bad_time", "time", time)


def test_a_leap_second_is_not_called_not_rfc3339():
    leap = Pipeline([Route("iotorino/v1/#", "native")], catalogue.default(), INV,
                    Limits(max_past_s=20 * 365 * 86_400.0))
    [reading] = leap.process(AIR_TOPIC, b'{"time": "2016-12-31T23:59:60Z", "fields": {"pm25": 3.0}}', NOW)
    assert reading.time_ns == 1_483_228_800 * 10**9 - 1


# -- field-level quarantine ----------------------------------------------------------------------------------

# A street unit whose NO2 cell failed: its PM values are good.
FAILED_NO2_PAYLOAD = b'{"time": "2026-11-18T09:45:00.000Z", "fields": {"pm25": 14.2, "pm10": 22.8, "no2": -999.0}}'


def test_a_half_invalid_message_stores_its_valid_fields(pipeline):
    encoded = pipeline.encode(AIR_TOPIC, FAILED_NO2_PAYLOAD, NOW)
    assert encoded.lines == (f"air_quality,district={UNIT.district},unit={UNIT.id} "
                             f"pm25=14.2,pm10=22.8,quarantined_values=1i {NOW - 100 * 10**9}").encode()
    [quarantined] = encoded.rejected
    assert (quarantined.reason, quarantined.field, quarantined.value) == ("out_of_range", "no2", -999.0)
    assert "air_quality.no2" in quarantined.describe() and "0 to 2000 ug/m3" in quarantined.describe()
    decoded = pipeline.decode(AIR_TOPIC, FAILED_NO2_PAYLOAD, NOW)
    assert decoded.readings[0].fields == {"pm25": 14.2, "pm10": 22.8, "quarantined_values": 1}
    assert _rejection(pipeline, AIR_TOPIC, FAILED_NO2_PAYLOAD).field == "no2"  # `process` is all or nothing


def test_a_beacon_sighting_with_an_odd_advertised_power_is_stored_without_it(pipeline):
    beacon = next(iter(INV.beacons.values()))
    topic = f"iotorino/v1/beacon/{beacon.id}/GW-01/beacon_sighting"
    payload = b'{"time": "2026-11-18T09:45:00Z", "fields": {"sightings": 14, "rssi_median": -70.5, "measured_power": 127}}'
    encoded = pipeline.encode(topic, payload, NOW)
    assert b"sightings=14i,rssi_median=-70.5,quarantined_values=1i" in encoded.lines
    assert [r.field for r in encoded.rejected] == ["measured_power"]
