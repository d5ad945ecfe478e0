"""What The Things Stack and ChirpStack uplinks share: codec output to a reading, time preference.

A LoRaWAN network server runs the device's payload codec and publishes its
output (TTN `decoded_payload`, ChirpStack `object`). The codec's keys are
renamed to catalogue fields by the device's entry in the LoRaWAN device map;
a key `time` in the codec output is the device's own measurement time.

Time preference (most to least trustworthy, all deterministic, so a
redelivered uplink overwrites its own point): the device time, else the
earliest gateway time, else the network server's receive time, else the
collector's receive time (tagged `time_source=receive`).
"""

from __future__ import annotations

from typing import Iterable

from ingest.mqtt.formats.context import DecodeContext
from ingest.mqtt.formats.native import FALLBACK_TAG
from iotorino.core.times import parse_time
from iotorino.core.errors import Rejected
from iotorino.core.lorawan import LorawanDevice
from iotorino.core.reading import Reading

DEVICE_TIME_KEY = "time"

# (where in the message, the values found there), best first
TimeCandidates = Iterable[tuple[str, list[object]]]


def reading_from_codec(device: LorawanDevice, decoded: object, decoded_path: str, network_times: TimeCandidates,
                       context: DecodeContext) -> Reading:
    """One reading of the device's measurement from its codec output `decoded` (found at `decoded_path`)."""
    if not isinstance(decoded, dict):
        raise Rejected("schema", "the codec output must be a JSON object", field=decoded_path, value=decoded,
                       accepted='{"<codec key>": <number>, ...}')
    tags = context.inventory.tags_for(device.site, device.site_id, device.point, device.measurement)
    fields = device.rename({k: v for k, v in decoded.items() if k != DEVICE_TIME_KEY})
    if DEVICE_TIME_KEY in decoded:
        time_ns = parse_time(decoded[DEVICE_TIME_KEY], field=f"{decoded_path}.{DEVICE_TIME_KEY}")
        return Reading(device.measurement, tags, fields, time_ns)
    for path, values in network_times:
        if values:
            return Reading(device.measurement, tags, fields, min(parse_time(v, field=path) for v in values))
    tags = {**tags, FALLBACK_TAG[0]: FALLBACK_TAG[1]}
    return Reading(device.measurement, tags, fields, context.received_ns, time_is_fallback=True)


def member(document: dict, path: str, kind: type, required: bool = False):
    """The value at a dotted `path` of nested objects if it has type `kind`; None when absent and not required."""
    value: object = document
    keys = path.split(".")
    for depth, key in enumerate(keys):
        if depth and value is not None and not isinstance(value, dict):
            parent = ".".join(keys[:depth])
            raise Rejected("schema", f"{parent} must be a JSON object", field=parent, value=value,
                           accepted="a JSON object")
        value = value.get(key) if isinstance(value, dict) else None
    if value is None and not required:
        return None
    if not isinstance(value, kind):
        raise Rejected("schema", f"{path} must be a JSON {_JSON_TYPE.get(kind, kind.__name__)}", field=path,
                       value=value, accepted=f"a JSON {_JSON_TYPE.get(kind, kind.__name__)}")
    return value


def time_at(document: dict, path: str) -> list[object]:
    """The time string at a dotted `path`, as a list of zero or one candidates."""
    value = member(document, path, str)
    return [] if value is None else [value]


def times_in(items: list, key: str) -> list[object]:
    """The `key` values present in a list of objects (gateway metadata entries)."""
    return [item[key] for item in items if isinstance(item, dict) and item.get(key) is not None]


_JSON_TYPE = {dict: "object", list: "array", str: "string"}
