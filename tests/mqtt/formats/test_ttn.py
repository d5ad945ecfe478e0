"""The Things Stack v3 decoder: device map lookup, field renames, time preference, every rejection."""

from __future__ import annotations

import json

import pytest

from ingest.mqtt.formats import ttn
from iotorino.core.times import parse_time
from iotorino.core.reading import Reading

from .support import DELETE, NOW, pipeline_rejection, rejection, variant

METER_TOPIC = "v3/iotorino-schools@ttn/devices/to-sc-01-m1/up"
METER_TAGS = {"school": "TO-SC-01", "meter": "M1"}
# An uplink of a school's main meter (Modbus bridge) as The Things Stack v3
# publishes it: two gateways heard it, the payload formatter decoded it.
METER_UPLINK = b"""{
  "end_device_ids": {
    "device_id": "to-sc-01-m1",
    "application_ids": {"application_id": "iotorino-schools"},
    "dev_eui": "24E1241ED34EA4CE",
    "join_eui": "24E124C0002A0001",
    "dev_addr": "260B1F2A"
  },
  "correlation_ids": ["gs:uplink:01JCXW8Z3RM0R5T9YF1QH2K4BN", "as:up:01JCXW8Z4A7N0D2G5X8Q3W6E1V"],
  "received_at": "2026-11-18T09:45:02.716893146Z",
  "uplink_message": {
    "session_key_id": "AZNnKxh0W6PcT1uQ2e4Zkg==",
    "f_port": 85,
    "f_cnt": 1532,
    "frm_payload": "AQJ1PgAAAAAA8h8AAA==",
    "decoded_payload": {"energy_import_kwh": 51234.5, "active_power_w": 8150},
    "rx_metadata": [
      {"gateway_ids": {"gateway_id": "to-gw-palazzo-civico", "eui": "A840411F2D3C4B5A"},
       "time": "2026-11-18T09:45:02.402351Z", "timestamp": 2463372011, "rssi": -97, "channel_rssi": -97,
       "snr": 8.25, "uplink_token": "CiIKIAoUdG8tZ3ctcGFsYXp6by1jaXZpY28SCKhAQR8tPEtaEOu5",
       "received_at": "2026-11-18T09:45:02.487201934Z"},
      {"gateway_ids": {"gateway_id": "to-gw-mole", "eui": "A840411F2D3C4C11"},
       "time": "2026-11-18T09:45:02.398012Z", "timestamp": 1180223345, "rssi": -112, "channel_rssi": -112,
       "snr": -3.5, "uplink_token": "ChgKFgoKdG8tZ3ctbW9sZRIIqEBBHy08TBEQ8Zj",
       "received_at": "2026-11-18T09:45:02.491007431Z"}
    ],
    "settings": {"data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": 7, "coding_rate": "4/5"}},
                 "frequency": "868100000", "timestamp": 2463372011},
    "received_at": "2026-11-18T09:45:02.512873102Z",
    "consumed_airtime": "0.071936s",
    "network_ids": {"net_id": "000013", "ns_id": "EC656E0000000181", "tenant_id": "ttn", "cluster_id": "eu1",
                    "cluster_address": "eu1.cloud.thethings.network"}
  }
}"""
NOISE_TOPIC = "v3/iotorino-streets/devices/to-su-0005-noise/up"
# A sound level sensor (Milesight WS302) whose formatter also emits keys the catalogue does not store.
NOISE_UPLINK = b"""{
  "end_device_ids": {"device_id": "to-su-0005-noise", "application_ids": {"application_id": "iotorino-streets"},
                     "dev_eui": "24E1247FA2115B1A", "dev_addr": "260B44C9"},
  "received_at": "2026-11-18T09:45:00.913402551Z",
  "uplink_message": {
    "f_port": 85, "f_cnt": 20417, "frm_payload": "AXVkBQsAAYNbAQ==",
    "decoded_payload": {"battery": 100, "frequency_weighting": "A", "time_weighting": "fast",
                        "la": 55.1, "laeq": 61.3, "lamax": 78.9},
    "rx_metadata": [{"gateway_ids": {"gateway_id": "to-gw-mole"}, "rssi": -104, "snr": 2.1}],
    "received_at": "2026-11-18T09:45:00.701234567Z"
  }
}"""


def test_meter_uplink_is_one_reading_at_the_earliest_gateway_time(context):
    [reading] = ttn.decode(METER_TOPIC, METER_UPLINK, context)
    assert reading == Reading("energy", METER_TAGS,
                              {"total_active_energy_import": 51234.5, "total_active_power": 8150},
                              parse_time("2026-11-18T09:45:02.398012Z"))


def test_keys_mapped_to_null_are_not_stored(context):
    [reading] = ttn.decode(NOISE_TOPIC, NOISE_UPLINK, context)
    assert reading.fields == {"laeq": 61.3, "lamax": 78.9}
    assert reading.tags == {"unit": "TO-SU-0005", "district": "4"}


def test_device_time_in_the_decoded_payload_wins(context):
    payload = variant(METER_UPLINK, uplink_message__decoded_payload__time="2026-11-18T09:45:00Z")
    [reading] = ttn.decode(METER_TOPIC, payload, context)
    assert reading.time_ns == parse_time("2026-11-18T09:45:00Z")
    assert "time" not in reading.fields


def test_without_gateway_times_the_network_server_time_is_used(context):
    [reading] = ttn.decode(NOISE_TOPIC, NOISE_UPLINK, context)
    assert reading.time_ns == parse_time("2026-11-18T09:45:00.701234567Z")
    payload = variant(NOISE_UPLINK, uplink_message__received_at=DELETE)
    [reading] = ttn.decode(NOISE_TOPIC, payload, context)
    assert reading.time_ns == parse_time("2026-11-18T09:45:00.913402551Z")


def test_without_any_time_the_receive_time_is_used_and_tagged(context):
    payload = variant(NOISE_UPLINK, uplink_message__received_at=DELETE, received_at=DELETE)
    [reading] = ttn.decode(NOISE_TOPIC, payload, context)
    assert reading.time_ns == NOW and reading.time_is_fallback
    assert reading.tags["time_source"] == "receive"


def test_tenant_suffix_is_optional(context):
    assert ttn.decode(METER_TOPIC.replace("@ttn", ""), METER_UPLINK, context)


@pytest.mark.parametrize("topic, payload, reason, field, value", [
    ("v3/iotorino-schools/devices/to-sc-01-m1/join", METER_UPLINK, "unknown_topic", "topic",
     "v3/iotorino-schools/devices/to-sc-01-m1/join"),
    ("v3/iotorino-schools/devices/nobody/up", METER_UPLINK, "unknown_device", "device_id", "nobody"),
    ("v3/iotorino-schools/devices/to-sc-29-outdoor/up", METER_UPLINK, "unknown_device", "device_id",
     "to-sc-29-outdoor"),
    (METER_TOPIC, b"not json", "undecodable", "payload", b"not json"),
    (METER_TOPIC, variant(METER_UPLINK, end_device_ids__device_id="to-sc-02-m1"), "schema",
     "end_device_ids.device_id", "to-sc-02-m1"),
    (METER_TOPIC, variant(METER_UPLINK, end_device_ids__application_ids__application_id="other"), "schema",
     "end_device_ids.application_ids.application_id", "other"),
    (METER_TOPIC, variant(METER_UPLINK, uplink_message=DELETE), "schema", "uplink_message", None),
    (METER_TOPIC, variant(METER_UPLINK, uplink_message__decoded_payload=DELETE), "schema",
     "uplink_message.decoded_payload", None),
    (METER_TOPIC, variant(METER_UPLINK, uplink_message__decoded_payload=[1]), "schema",
     "uplink_message.decoded_payload", [1]),
    (METER_TOPIC, variant(METER_UPLINK, uplink_message__rx_metadata={"time": 1}), "schema",
     "uplink_message.rx_metadata", {"time": 1}),
    (METER_TOPIC, variant(METER_UPLINK, uplink_message__rx_metadata__0__time="yesterday"), "bad_time",
     "uplink_message.rx_metadata[].time", "yesterday"),
    (METER_TOPIC, variant(METER_UPLINK, uplink_message__decoded_payload__time=12), "bad_time",
     "uplink_message.decoded_payload.time", 12),
])
def test_rejections_name_field_and_value(context, topic, payload, reason, field, value):
    rejected = rejection("ttn", topic, payload, context)
    assert (rejected.reason, rejected.field, rejected.value) == (reason, field, value)


@pytest.mark.parametrize("decoded, reason, field", [
    ({"energy_import_kwh": 51234.5, "voltage_v": 230}, "unknown_field", "voltage_v"),
    ({"energy_import_kwh": "51234.5"}, "type", "total_active_energy_import"),
    ({"active_power_w": -5}, "out_of_range", "total_active_power"),
    ({}, "empty", "fields"),
])
def test_codec_output_is_validated_against_the_catalogue(pipeline, decoded, reason, field):
    payload = variant(METER_UPLINK, uplink_message__decoded_payload=decoded)
    rejected = pipeline_rejection(pipeline, "ttn", METER_TOPIC, payload)
    assert (rejected.reason, rejected.field) == (reason, field)


def test_same_reading_as_native(pipeline):
    native_payload = json.dumps({"time": "2026-11-18T09:45:02.398012Z", "fields": {
        "total_active_energy_import": 51234.5, "total_active_power": 8150}}).encode()
    native = pipeline.process("iotorino/v1/school/TO-SC-01/M1/energy", native_payload, NOW, "native")
    assert pipeline.process(METER_TOPIC, METER_UPLINK, NOW, "ttn") == native
