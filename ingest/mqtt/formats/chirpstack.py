"""ChirpStack v4 uplink events (JSON marshaler), into one reading of the device's measurement.

    topic    application/{application_id}/device/{dev_eui}/event/up
    payload  {"deduplicationId": "...", "time": "...",
              "deviceInfo": {"tenantId": ..., "applicationId": ..., "deviceName": ..., "devEui": "24e124..."},
              "fCnt": 10, "fPort": 85, "data": "...",
              "object": {"temperature": 7.5, "humidity": 81.0, "co2": 431},
              "rxInfo": [{"gatewayId": "...", "gwTime": "...", "nsTime": "...", "rssi": -101, "snr": 7.2}]}

The DevEUI of the topic is looked up among the `chirpstack` devices of the
LoRaWAN device map (hardware/lorawan_devices.json). `object` exists only when
the device profile has a codec; without it the event is rejected. Time:
`object.time` if the codec gives one, else the earliest `rxInfo[].gwTime`,
else the earliest `rxInfo[].nsTime`, else `time` (ingest.mqtt.formats.uplink).
"""

from __future__ import annotations

from ingest.mqtt.formats import uplink
from ingest.mqtt.formats.context import DecodeContext
from iotorino.core.contract import parse_json_object
from iotorino.core.errors import Rejected
from iotorino.core.reading import Reading

TOPIC_SHAPE = "application/{application_id}/device/{dev_eui}/event/up"


def decode(topic: str, payload: bytes, context: DecodeContext) -> list[Reading]:
    """The reading of one ChirpStack uplink event; `Rejected` names the offending member."""
    application_id, dev_eui = parse_topic(topic)
    device = context.lorawan_devices().chirpstack_device(dev_eui)
    event = parse_json_object(payload)
    for path, expected in (("deviceInfo.devEui", dev_eui), ("deviceInfo.applicationId", application_id)):
        sent = uplink.member(event, path, str)
        if sent is not None and sent.lower() != expected.lower():
            raise Rejected("schema", "the event names another device than its topic", field=path, value=sent,
                           accepted=expected)
    if "object" not in event:
        raise Rejected("schema", "no object: the device profile has no codec to decode the payload",
                       field="object", value=None, accepted="the object the device profile's codec returns")
    rx_info = uplink.member(event, "rxInfo", list) or []
    times = [
        ("rxInfo[].gwTime", uplink.times_in(rx_info, "gwTime")),
        ("rxInfo[].nsTime", uplink.times_in(rx_info, "nsTime")),
        ("time", uplink.time_at(event, "time")),
    ]
    return [uplink.reading_from_codec(device, event["object"], "object", times, context)]


def parse_topic(topic: str) -> tuple[str, str]:
    """(application id, DevEUI) from an uplink event topic; `Rejected('unknown_topic')` otherwise."""
    parts = topic.split("/")
    if (len(parts) != 6 or parts[0] != "application" or parts[2] != "device" or parts[4:] != ["event", "up"]
            or not all(parts)):
        raise Rejected("unknown_topic", "not a ChirpStack v4 uplink event topic", field="topic", value=topic,
                       accepted=TOPIC_SHAPE)
    return parts[1], parts[3]
