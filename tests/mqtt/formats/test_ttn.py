"""The Things Stack v3 decoder: device map lookup, field renames, time preference, every rejection."""

from __future__ import annotations

import base64
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
# A sound level sensor (Milesight WS302) running the vendor's decoder (Milesight-IoT/SensorDecoders, WS302):
# frm_payload 01 75 64 | 05 5B 05 3F02 DA01 6A02 is battery 100 %, then weighting byte 0x05 (A, fast) and
# LAF 57.5, LAeq 47.4, LAFmax 61.8 dB in tenths; the decoder names them L + A + F (+ eq, max).
WS302_DECODED = {"battery": 100, "LAF": 57.5, "LAeq": 47.4, "LAFmax": 61.8}
NOISE_UPLINK = json.dumps({
    "end_device_ids": {"device_id": "to-su-0005-noise", "application_ids": {"application_id": "iotorino-streets"},
                       "dev_eui": "24E1247FA2115B1A", "dev_addr": "260B44C9"},
    "received_at": "2026-11-18T09:45:00.913402551Z",
    "uplink_message": {
        "f_port": 85, "f_cnt": 20417, "frm_payload": "AXVkBVsFPwLaAWoC",
        "decoded_payload": WS302_DECODED,
        "rx_metadata": [{"gateway_ids": {"gateway_id": "to-gw-mole"}, "rssi": -104, "snr": 2.1}],
        "received_at": "2026-11-18T09:45:00.701234567Z"
    }
}, indent=2).encode()


def test_meter_uplink_is_one_reading_at_the_earliest_gateway_time(context):
    [reading] = ttn.decode(METER_TOPIC, METER_UPLINK, context)
    assert reading == Reading("energy", METER_TAGS,
                              {"total_active_energy_import": 51234.5, "total_active_power": 8150},
                              parse_time("2026-11-18T09:45:02.398012Z"))


def test_the_vendor_decoder_names_map_to_catalogue_fields_without_code(context):
    """The WS302 model's map in hardware/lorawan_devices.json: LAeq -> laeq, LAFmax -> lamax, LAF and battery not stored."""
    raw = base64.b64decode(json.loads(NOISE_UPLINK)["uplink_message"]["frm_payload"])
    levels = [int.from_bytes(raw[i:i + 2], "little") / 10 for i in (6, 8, 10)]  # after battery, id, type, weight
    assert levels == [WS302_DECODED[k] for k in ("LAF", "LAeq", "LAFmax")] and raw[5] == 0x05  # A, fast
    [reading] = ttn.decode(NOISE_TOPIC, NOISE_UPLINK, context)
    assert reading.fields == {"laeq": 47.4, "lamax": 61.8}
    assert reading.tags == {"unit": "TO-SU-0005", "district": "4"}


def test_a_ws302_uplink_is_stored_whole_by_the_pipeline(pipeline):
    [reading] = pipeline.process(NOISE_TOPIC, NOISE_UPLINK, NOW, "ttn")
    assert reading.fields == {"laeq": 47.4, "lamax": 61.8}


def test_a_dev_eui_that_is_not_the_devices_is_rejected_naming_both(context):
    payload = variant(METER_UPLINK, end_device_ids__dev_eui="24E124FFFFFFFFFF")
    rejected = rejection("ttn", METER_TOPIC, payload, context)
    assert (rejected.reason, rejected.field, rejected.value) == ("device_mismatch", "end_device_ids.dev_eui",
                                                                 "24E124FFFFFFFFFF")
    assert "to-sc-01-m1" in rejected.describe() and "24e1241ed34ea4ce" in rejected.describe()


def test_an_uplink_without_dev_eui_is_matched_by_device_id(context):
    assert ttn.decode(METER_TOPIC, variant(METER_UPLINK, end_device_ids__dev_eui=DELETE), context)


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
