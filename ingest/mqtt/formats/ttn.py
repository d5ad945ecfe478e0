"""The Things Stack v3 uplink messages, into one reading of the device's measurement.

    topic    v3/{application_id}[@{tenant_id}]/devices/{device_id}/up
    payload  {"end_device_ids": {"device_id": ..., "application_ids": {"application_id": ...}, "dev_eui": ...},
              "received_at": "...",
              "uplink_message": {"f_port": 85, "f_cnt": 42, "frm_payload": "...",
                                 "decoded_payload": {"energy_import_kwh": 51234.5, "active_power_w": 8150},
                                 "rx_metadata": [{"gateway_ids": {...}, "time": "...", "rssi": -97}],
                                 "received_at": "..."}}

The device id of the topic is looked up among the `ttn` devices of the
LoRaWAN device map (hardware/lorawan_devices.json); the message's `dev_eui`,
when present, must be that device's DevEUI. The map names its inventory
point and measurement and renames the payload formatter's keys to catalogue
fields. Time: `decoded_payload.time` if the formatter gives one, else the
earliest `rx_metadata[].time`, else `uplink_message.received_at`, else
`received_at` (ingest.mqtt.formats.uplink).
"""

from __future__ import annotations

from ingest.mqtt.formats import uplink
from ingest.mqtt.formats.context import DecodeContext
from iotorino.core.contract import parse_json_object
from iotorino.core import lorawan
from iotorino.core.errors import Rejected
from iotorino.core.lorawan import LorawanDevice
from iotorino.core.reading import Reading

TOPIC_SHAPE = "v3/{application_id}[@{tenant_id}]/devices/{device_id}/up"


def decode(topic: str, payload: bytes, context: DecodeContext) -> list[Reading]:
    """The reading of one TTN uplink; `Rejected` names the offending member of the message."""
    application_id, device_id = parse_topic(topic)
    device = context.lorawan_devices().ttn_device(device_id)
    message = parse_json_object(payload)
    for path, expected in (("end_device_ids.device_id", device_id),
                           ("end_device_ids.application_ids.application_id", application_id)):
        sent = uplink.member(message, path, str)
        if sent is not None and sent != expected:
            raise Rejected("schema", "the message names another device than its topic", field=path, value=sent,
                           accepted=expected)
    check_dev_eui(device, uplink.member(message, "end_device_ids.dev_eui", str))
    uplink_message = uplink.member(message, "uplink_message", dict, required=True)
    if "decoded_payload" not in uplink_message:
        raise Rejected("schema", "no decoded_payload: the application has no payload formatter for this device",
                       field="uplink_message.decoded_payload", value=None,
                       accepted="the object the device's uplink payload formatter returns")
    rx_metadata = uplink.member(message, "uplink_message.rx_metadata", list) or []
    times = [
        ("uplink_message.rx_metadata[].time", uplink.times_in(rx_metadata, "time")),
        ("uplink_message.received_at", uplink.time_at(message, "uplink_message.received_at")),
        ("received_at", uplink.time_at(message, "received_at")),
    ]
    return [uplink.reading_from_codec(device, uplink_message["decoded_payload"], "uplink_message.decoded_payload",
                                      times, context)]


def check_dev_eui(device: LorawanDevice, sent: str | None) -> None:
    """`Rejected('device_mismatch')` when the uplink's DevEUI is not the one the device map gives its device id.

    The Things Stack omits `dev_eui` for some activation modes; then the device id alone decides.
    """
    if sent is not None and sent.lower() != device.dev_eui:
        raise Rejected("device_mismatch",
                       f"the uplink's dev_eui {sent} is not the DevEUI of device_id {device.device_id} "
                       f"({device.dev_eui}) in hardware/{lorawan.FILE}",
                       field="end_device_ids.dev_eui", value=sent, accepted=device.dev_eui)


def parse_topic(topic: str) -> tuple[str, str]:
    """(application id without tenant, device id) from an uplink topic; `Rejected('unknown_topic')` otherwise."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != "v3" or parts[2] != "devices" or parts[4] != "up" or not all(parts):
        raise Rejected("unknown_topic", "not a The Things Stack v3 uplink topic", field="topic", value=topic,
                       accepted=TOPIC_SHAPE)
    return parts[1].split("@", 1)[0], parts[3]

