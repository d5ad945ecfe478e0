"""The ChirpStack v4 decoder: DevEUI lookup, `object`, time preference, every rejection."""

from __future__ import annotations

import json

import pytest

from ingest.mqtt.formats import chirpstack
from iotorino.core.times import parse_time
from iotorino.core.reading import Reading

from .support import DELETE, NOW, rejection, variant

OUTDOOR_TOPIC = "application/6d3f1a8e-2b7c-4e59-9f0a-3c8d1e2b4a77/device/24e12448d5b03614/event/up"
OUTDOOR_TAGS = {"school": "TO-SC-29"}
# An uplink event of a school's outdoor station (Milesight EM500-CO2) as
# ChirpStack v4 publishes it with the JSON marshaler; the codec decoded it.
OUTDOOR_EVENT = b"""{
  "deduplicationId": "a1f4c9e2-5b7d-4c3a-8e6f-2d9b0c7a1e54",
  "time": "2026-11-18T09:45:01.204331Z",
  "deviceInfo": {
    "tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
    "tenantName": "Citta di Torino",
    "applicationId": "6d3f1a8e-2b7c-4e59-9f0a-3c8d1e2b4a77",
    "applicationName": "iotorino-schools",
    "deviceProfileId": "0b2e6c4f-8a1d-4f3e-9c7b-5d2a8e1f6c30",
    "deviceProfileName": "Milesight EM500-CO2",
    "deviceName": "to-sc-29-outdoor",
    "devEui": "24e12448d5b03614",
    "deviceClassEnabled": "CLASS_A",
    "tags": {"school": "TO-SC-29"}
  },
  "devAddr": "01b4c7e2",
  "adr": true,
  "dr": 5,
  "fCnt": 8812,
  "fPort": 85,
  "confirmed": false,
  "data": "AXVhA2cEAQRoqAV9rQEGc2gn",
  "object": {"battery": 97, "temperature": 7.5, "humidity": 81.0, "co2": 431, "pressure": 1001.6},
  "rxInfo": [
    {"gatewayId": "a840411f2d3c4b5a", "uplinkId": 40551, "gwTime": "2026-11-18T09:45:01.032114Z",
     "nsTime": "2026-11-18T09:45:01.101845237Z", "rssi": -101, "snr": 7.2, "channel": 2, "rfChain": 1,
     "location": {}, "context": "Zb0z4Q==", "metadata": {"region_config_id": "eu868"}, "crcStatus": "CRC_OK"}
  ],
  "txInfo": {"frequency": 868500000, "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": 7,
                                                               "codeRate": "CR_4_5"}}}
}"""


def test_outdoor_event_is_one_reading_at_the_gateway_time(context):
    [reading] = chirpstack.decode(OUTDOOR_TOPIC, OUTDOOR_EVENT, context)
    assert reading == Reading("outdoor_climate", OUTDOOR_TAGS,
                              {"temperature": 7.5, "relative_humidity": 81.0, "co2": 431},
                              parse_time("2026-11-18T09:45:01.032114Z"))


def test_dev_eui_in_any_case(context):
    assert chirpstack.decode(OUTDOOR_TOPIC.replace("24e12448d5b03614", "24E12448D5B03614"), OUTDOOR_EVENT, context)


@pytest.mark.parametrize("changes, expected", [
    ({"object__time": "2026-11-18T09:45:00Z"}, "2026-11-18T09:45:00Z"),
    ({"rxInfo__0__gwTime": DELETE}, "2026-11-18T09:45:01.101845237Z"),
    ({"rxInfo": []}, "2026-11-18T09:45:01.204331Z"),
])
def test_time_preference(context, changes, expected):
    [reading] = chirpstack.decode(OUTDOOR_TOPIC, variant(OUTDOOR_EVENT, **changes), context)
    assert reading.time_ns == parse_time(expected) and not reading.time_is_fallback


def test_without_any_time_the_receive_time_is_used_and_tagged(context):
    [reading] = chirpstack.decode(OUTDOOR_TOPIC, variant(OUTDOOR_EVENT, rxInfo=DELETE, time=DELETE), context)
    assert reading.time_ns == NOW and reading.time_is_fallback
    assert reading.tags == {**OUTDOOR_TAGS, "time_source": "receive"}


@pytest.mark.parametrize("topic, payload, reason, field, value", [
    (OUTDOOR_TOPIC.replace("/up", "/join"), OUTDOOR_EVENT, "unknown_topic", "topic",
     OUTDOOR_TOPIC.replace("/up", "/join")),
    (OUTDOOR_TOPIC.replace("24e12448d5b03614", "0000000000000001"), OUTDOOR_EVENT, "unknown_device", "dev_eui",
     "0000000000000001"),
    # a device of the map, but registered on The Things Stack
    (OUTDOOR_TOPIC.replace("24e12448d5b03614", "24e1241ed34ea4ce"), OUTDOOR_EVENT, "unknown_device", "dev_eui",
     "24e1241ed34ea4ce"),
    (OUTDOOR_TOPIC, b"[]", "undecodable", "payload", []),
    (OUTDOOR_TOPIC, variant(OUTDOOR_EVENT, object=DELETE), "schema", "object", None),
    (OUTDOOR_TOPIC, variant(OUTDOOR_EVENT, object="AXVh"), "schema", "object", "AXVh"),
    (OUTDOOR_TOPIC, variant(OUTDOOR_EVENT, deviceInfo__devEui="24e1243739997652"), "schema", "deviceInfo.devEui",
     "24e1243739997652"),
    (OUTDOOR_TOPIC, variant(OUTDOOR_EVENT, deviceInfo__applicationId="x"), "schema", "deviceInfo.applicationId",
     "x"),
    (OUTDOOR_TOPIC, variant(OUTDOOR_EVENT, deviceInfo="24e1"), "schema", "deviceInfo", "24e1"),
    (OUTDOOR_TOPIC, variant(OUTDOOR_EVENT, rxInfo={"gwTime": 1}), "schema", "rxInfo", {"gwTime": 1}),
    (OUTDOOR_TOPIC, variant(OUTDOOR_EVENT, rxInfo__0__gwTime="2026-11-18 09:45"), "bad_time", "rxInfo[].gwTime",
     "2026-11-18 09:45"),
    (OUTDOOR_TOPIC, variant(OUTDOOR_EVENT, rxInfo=[], time=5), "schema", "time", 5),
])
def test_rejections_name_field_and_value(context, topic, payload, reason, field, value):
    rejected = rejection("chirpstack", topic, payload, context)
    assert (rejected.reason, rejected.field, rejected.value) == (reason, field, value)


def test_same_reading_as_native(pipeline):
    native_payload = json.dumps({"time": "2026-11-18T09:45:01.032114Z", "fields": {
        "temperature": 7.5, "relative_humidity": 81.0, "co2": 431}}).encode()
    native = pipeline.process("iotorino/v1/school/TO-SC-29/outdoor/outdoor_climate", native_payload, NOW, "native")
    assert pipeline.process(OUTDOOR_TOPIC, OUTDOOR_EVENT, NOW, "chirpstack") == native
