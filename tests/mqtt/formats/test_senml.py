"""The SenML decoder: base-field resolution, relative times, unit conversion, name mapping, every rejection."""

from __future__ import annotations

import json

import pytest

from ingest.mqtt.formats import senml
from iotorino.core import units
from iotorino.core.times import parse_time
from iotorino.core.reading import Reading

from .support import NOW, pipeline_rejection, rejection

T0 = parse_time("2026-11-18T09:45:00Z")
STREET_TOPIC = "iotorino/senml/street/TO-SU-0001"  # a street-full unit, district 2
STREET_TAGS = {"unit": "TO-SU-0001", "district": "2"}
ROOM_TOPIC = "iotorino/senml/school/TO-SC-01/R01"
ROOM_TAGS = {"school": "TO-SC-01", "room": "R01"}

# RFC 8428 section 5.1.2 ("multiple data points"), adapted: a street unit's
# weather station, one record per field, device name in bn, units mixed.
STREET_WEATHER_PACK = b"""[
 {"bn": "urn:dev:iotorino:TO-SU-0001:", "bt": 1794995100, "bver": 26, "n": "temperature", "u": "Cel", "v": 12.5},
 {"n": "relative_humidity", "u": "%RH", "v": 81},
 {"n": "atmospheric_pressure", "u": "Pa", "v": 101320},
 {"n": "wind_speed", "u": "km/h", "v": 18},
 {"n": "wind_direction", "u": "deg", "v": 225},
 {"n": "precipitation", "u": "mm", "v": 0.2}
]"""
# RFC 8428 section 5.1.3 ("multiple measurements"), adapted: two samples of
# particulates five minutes apart, then the base name and unit change to noise.
STREET_SERIES_PACK = b"""[
 {"bn": "urn:dev:iotorino:TO-SU-0001:air_quality/", "bt": 1794995100, "bu": "ug/m3", "bver": 26,
  "n": "pm25", "v": 14.2},
 {"n": "pm10", "v": 22.8},
 {"n": "co", "u": "mg/m3", "v": 0.45},
 {"n": "pm25", "t": -300, "v": 15.1},
 {"n": "pm10", "t": -300, "v": 24},
 {"bn": "urn:dev:iotorino:TO-SU-0001:noise/", "bu": "dB", "n": "laeq", "v": 61.3},
 {"n": "lamax", "v": 78.9}
]"""
# A classroom sensor with a base value: CO2 sent as offsets from 400 ppm.
ROOM_BASE_VALUE_PACK = b"""[
 {"bn": "urn:dev:mac:0024befffe804ff1:", "bt": 1794995100, "bv": 400, "bu": "ppm", "bver": 26, "n": "co2", "v": 612},
 {"n": "temperature", "bv": 0, "u": "K", "v": 294.65},
 {"n": "relative_humidity", "u": "/", "v": 0.44}
]"""


def _pack(*records: dict) -> bytes:
    return json.dumps(list(records)).encode()


def test_weather_pack_is_one_reading_in_canonical_units(context):
    [reading] = senml.decode(STREET_TOPIC, STREET_WEATHER_PACK, context)
    assert reading == Reading("weather", STREET_TAGS, {
        "temperature": 12.5, "relative_humidity": 81, "atmospheric_pressure": 1013.2,
        "wind_speed": 5.0, "wind_direction": 225, "precipitation": 0.2}, T0)
    assert not reading.time_is_fallback


def test_base_fields_apply_until_changed_and_records_group_by_measurement_and_time(context):
    readings = senml.decode(STREET_TOPIC, STREET_SERIES_PACK, context)
    assert readings == [
        Reading("air_quality", STREET_TAGS, {"pm25": 14.2, "pm10": 22.8, "co": 0.45}, T0),
        Reading("air_quality", STREET_TAGS, {"pm25": 15.1, "pm10": 24}, T0 - 300 * 10**9),
        Reading("noise", STREET_TAGS, {"laeq": 61.3, "lamax": 78.9}, T0),
    ]


def test_base_value_is_added_and_can_be_reset(context):
    [reading] = senml.decode(ROOM_TOPIC, ROOM_BASE_VALUE_PACK, context)
    assert reading == Reading("indoor_climate", ROOM_TAGS,
                              {"co2": 1012, "temperature": 21.5, "relative_humidity": 44.0}, T0)


def test_relative_times_count_back_from_the_receive_time_and_are_tagged(context):
    [earlier, now] = senml.decode(ROOM_TOPIC, _pack({"n": "temperature", "v": 21.5, "t": -60},
                                                    {"n": "temperature", "v": 21.7}), context)
    assert earlier.time_ns == NOW - 60 * 10**9 and not earlier.time_is_fallback
    assert now.time_ns == NOW and now.time_is_fallback
    assert earlier.tags == now.tags == {**ROOM_TAGS, "time_source": "receive"}


def test_relative_base_time_plus_time(context):
    [reading] = senml.decode(ROOM_TOPIC, _pack({"bt": -120, "n": "co2", "t": 60, "v": 800}), context)
    assert reading.time_ns == NOW - 60 * 10**9


def test_name_may_carry_the_measurement(context):
    [reading] = senml.decode(ROOM_TOPIC, _pack({"n": "indoor_climate/co2", "v": 800, "t": 1794995100}), context)
    assert reading.measurement == "indoor_climate" and reading.fields == {"co2": 800}


@pytest.mark.parametrize("canonical, unit, value, expected", [
    ("Cel", "K", 293.15, 20.0),
    ("%RH", "/", 0.81, 81.0),
    ("%RH", "%", 0.81, 81),
    ("%RH", "/100", 81, 81),
    ("hPa", "Pa", 101325, 1013.25),
    ("kWh", "Wh", 51234500, 51234.5),
    ("kWh", "J", 3.6e6, 1.0),
    ("W", "kW", 8.15, 8150.0),
    ("ug/m3", "mg/m3", 0.0142, 14.2),
    ("mg/m3", "ug/m3", 450, 0.45),
    ("m/s", "km/h", 18, 5.0),
    ("deg", "rad", 3.141592653589793, 180.0),
    ("mm", "cm", 0.02, 0.2),
])
def test_unit_conversions(canonical, unit, value, expected):
    assert units.to_canonical(value, unit, canonical, "f") == pytest.approx(expected, rel=1e-12)


def test_conversion_drops_binary_noise():
    assert units.to_canonical(293.15, "K", "Cel", "temperature") == 20.0


def test_energy_in_wh_becomes_kwh(context):
    pack = _pack({"bver": 26, "bt": 1794995100, "n": "total_active_energy_import", "u": "Wh", "v": 51234500},
                 {"n": "total_active_power", "u": "kW", "v": 8.15})
    [reading] = senml.decode("iotorino/senml/school/TO-SC-01/M1", pack, context)
    assert reading.fields == {"total_active_energy_import": 51234.5, "total_active_power": 8150.0}
    assert reading.tags == {"school": "TO-SC-01", "meter": "M1"}


REJECTIONS = [
    # payload shape
    (b'{"n": "temperature", "v": 1}', "schema", "payload", {"n": "temperature", "v": 1}),
    (b"[]", "schema", "payload", []),
    (b"[1]", "schema", "record 0", 1),
    (b"\xff", "undecodable", "payload", b"\xff"),
    (_pack({"n": "temperature", "v": 1, "sig_": "x"}), "schema", "sig_", "x"),
    (_pack({"n": 7, "v": 1}), "schema", "record 0 n", 7),
    (_pack({"bn": "x:", "bt": "now", "n": "temperature", "v": 1}), "type", "record 0 bt", "now"),
    (_pack({"n": "temp erature", "v": 1}), "schema", "n", "temp erature"),
    # versions and units
    (_pack({"bver": 11, "n": "temperature", "v": 1}), "unsupported_version", "bver", 11),
    (_pack({"bver": 10, "n": "temperature", "v": 1}, {"bver": 26, "n": "co", "v": 1}),
     "unsupported_version", "bver", 26),
    (_pack({"n": "atmospheric_pressure", "u": "hPa", "v": 1013}), "unsupported_version", "atmospheric_pressure",
     "hPa"),
    (_pack({"n": "temperature", "u": "degF", "v": 50}), "unit", "temperature", "degF"),
    (_pack({"bu": "Pa", "n": "temperature", "v": 50}), "unit", "temperature", "Pa"),
    # values
    (_pack({"n": "temperature", "vs": "warm"}), "type", "temperature", "warm"),
    (_pack({"n": "temperature", "vd": "aGk"}), "type", "temperature", "aGk"),
    (_pack({"n": "temperature", "vb": 1}), "type", "temperature", 1),
    (_pack({"n": "precipitation", "s": 3}), "schema", "precipitation", None),
    (_pack({"n": "temperature", "v": 1, "vb": True}), "schema", "temperature", {"v": 1, "vb": True}),
    (_pack({"n": "temperature"}), "schema", "temperature", None),
    (_pack({"n": "temperature", "v": "12"}), "type", "temperature v", "12"),
    # names against the profile (street-full: air_quality, noise, weather)
    (_pack({"n": "humidity", "v": 50}), "unknown_field", "humidity", "humidity"),
    (_pack({"n": "energy/total_active_power", "v": 50}), "not_in_profile", "energy/total_active_power", "energy"),
    (_pack({"n": "weather/pm25", "v": 5}), "unknown_field", "weather/pm25", "pm25"),
    (_pack({"n": "temperature", "v": 5}, {"n": "temperature", "v": 6}), "schema", "temperature", 6),
    # time
    (_pack({"bt": 5e8, "n": "temperature", "v": 5}), "bad_time", "temperature bt + t", 5e8),
    (_pack({"n": "temperature", "v": 5, "t": float("inf")}).replace(b"Infinity", b"1e999"), "type",
     "temperature t", float("inf")),
]


@pytest.mark.parametrize("payload, reason, field, value", REJECTIONS)
def test_rejections_name_field_and_value(context, payload, reason, field, value):
    rejected = rejection("senml", STREET_TOPIC, payload, context)
    assert (rejected.reason, rejected.field, rejected.value) == (reason, field, value)
    assert rejected.accepted


def test_unit_rejection_lists_accepted_units(context):
    rejected = rejection("senml", STREET_TOPIC, _pack({"n": "temperature", "u": "degF", "v": 50}), context)
    assert rejected.accepted == "Cel, K"


@pytest.mark.parametrize("topic, reason, field", [
    ("iotorino/senml/street", "unknown_topic", "topic"),
    ("iotorino/senml/school/TO-SC-01", "unknown_topic", "topic"),
    ("iotorino/senml/beacon/B1/G1", "unknown_topic", "topic"),
    ("iotorino/senml/street/TO-SU-9999", "unknown_device", "unit"),
    ("iotorino/senml/school/TO-SC-01/R99", "unknown_device", "point"),
])
def test_topic_rejections(context, topic, reason, field):
    rejected = rejection("senml", topic, STREET_WEATHER_PACK, context)
    assert (rejected.reason, rejected.field) == (reason, field)


def test_converted_value_is_range_checked_by_the_pipeline(pipeline):
    rejected = pipeline_rejection(pipeline, "senml", STREET_TOPIC,
                                  _pack({"bt": 1794995100, "n": "temperature", "u": "K", "v": 400}))
    assert (rejected.reason, rejected.field, rejected.value) == ("out_of_range", "temperature", 126.85)


def test_device_time_outside_the_window_is_rejected_by_the_pipeline(pipeline):
    rejected = pipeline_rejection(pipeline, "senml", STREET_TOPIC,
                                  _pack({"bt": 1795995100, "n": "temperature", "v": 4}))
    assert rejected.reason == "time_in_future"


def test_same_reading_as_native(pipeline):
    native_payload = json.dumps({"time": "2026-11-18T09:45:00Z", "fields": {
        "temperature": 12.5, "relative_humidity": 81, "atmospheric_pressure": 1013.2,
        "wind_speed": 5.0, "wind_direction": 225, "precipitation": 0.2}}).encode()
    native = pipeline.process("iotorino/v1/street/TO-SU-0001/weather", native_payload, NOW, "native")
    assert pipeline.process(STREET_TOPIC, STREET_WEATHER_PACK, NOW, "senml") == native
