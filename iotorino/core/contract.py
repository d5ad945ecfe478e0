"""The native MQTT contract: topics built and parsed, payloads decoded and encoded. The one place that defines them.

    iotorino/v1/street/{unit_id}/{measurement}
    iotorino/v1/school/{school_id}/{point}/{measurement}     point: room id, meter id or "outdoor"
    iotorino/v1/beacon/{beacon_id}/{gateway_id}/{measurement}
    iotorino/v1/gateway/{gateway_id}/{measurement}             a BLE gateway's own heartbeat

    {"time": "2026-11-21T10:00:00.000Z", "fields": {"pm25": 12.3, "no2": 41.0}}

A payload is UTF-8 JSON (RFC 8259 section 8.1: no byte order mark, no UTF-16
or UTF-32); its shape is schemas/native-payload.schema.json: an object with
`fields` (a non-empty object) and an optional `time` (iotorino.core.times).
The collector, the simulator, the BLE gateway, the beacon monitor and the
exports build their topics and payloads here, so a change of the contract is
a change of this module. The collector's fast path (ingest.mqtt.fastpath)
reads the same payloads faster and is property-tested equal to `decode`.

Pure: no I/O. See schemas/mqtt-contract.md for the whole contract.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping

from iotorino.core.errors import Rejected
from iotorino.core.times import format_ns, parse_time

PREFIX = "iotorino/v1/"
ALL = PREFIX + "#"  # the filter of every native topic
# Number of segments after the prefix for each site kind, and the shape people read in errors.
_SEGMENTS = {"street": 3, "school": 4, "beacon": 4, "gateway": 3}
_SHAPES = {"street": "street/{unit_id}/{measurement}",
           "school": "school/{school_id}/{point}/{measurement}",
           "beacon": "beacon/{beacon_id}/{gateway_id}/{measurement}",
           "gateway": "gateway/{gateway_id}/{measurement}"}
_WILDCARDS = "+#"
PAYLOAD_KEYS = ("time", "fields")


@dataclass(frozen=True, slots=True)
class TopicAddress:
    """What a native topic names: site kind, site id, optional point, measurement."""

    site: str
    site_id: str
    point: str | None
    measurement: str

    @property
    def topic(self) -> str:
        """The native topic of this address; `Rejected('unknown_topic')` if a part cannot be a topic level."""
        return topic(self.site, self.site_id, self.point, self.measurement)


def parse(topic: str) -> TopicAddress:
    """Split a native topic; `Rejected('unknown_topic')` names the part that does not fit."""
    if not topic.startswith(PREFIX):
        raise Rejected("unknown_topic", "topic outside the native contract", field="topic", value=topic,
                       accepted=PREFIX + "{street|school|beacon|gateway}/...")
    parts = topic[len(PREFIX):].split("/")
    site = parts[0]
    expected = _SEGMENTS.get(site)
    if expected is None:
        raise Rejected("unknown_topic", "unknown site kind in topic", field="topic", value=topic,
                       accepted=", ".join(_SEGMENTS))
    if len(parts) != expected or not all(parts):
        raise Rejected("unknown_topic", "topic has the wrong number of levels", field="topic", value=topic,
                       accepted=PREFIX + _SHAPES[site])
    if expected == 3:
        return TopicAddress(site, parts[1], None, parts[2])
    return TopicAddress(site, parts[1], parts[2], parts[3])


def topic(site: str, site_id: str, point: str | None, measurement: str) -> str:
    """The native topic of a site kind, site id, point (None for street and gateway) and measurement."""
    expected = _SEGMENTS.get(site)
    if expected is None:
        raise Rejected("unknown_topic", "unknown site kind", field="site", value=site, accepted=", ".join(_SEGMENTS))
    levels = [site_id, measurement] if expected == 3 else [site_id, point, measurement]
    if expected == 3 and point is not None or any(not _is_level(level) for level in levels):
        raise Rejected("unknown_topic", "not a topic of this site kind", field="topic",
                       value=[site, site_id, point, measurement],
                       accepted=PREFIX + _SHAPES[site] + ", levels without '/', '+', '#'")
    return PREFIX + "/".join([site, *levels])


def street_topic(unit_id: str, measurement: str) -> str:
    """`iotorino/v1/street/{unit_id}/{measurement}`."""
    return topic("street", unit_id, None, measurement)


def school_topic(school_id: str, point: str, measurement: str) -> str:
    """`iotorino/v1/school/{school_id}/{point}/{measurement}`; point is a room, a meter or "outdoor"."""
    return topic("school", school_id, point, measurement)


def beacon_topic(beacon_id: str, gateway_id: str, measurement: str) -> str:
    """`iotorino/v1/beacon/{beacon_id}/{gateway_id}/{measurement}`: a reading about a beacon, by a gateway."""
    return topic("beacon", beacon_id, gateway_id, measurement)


def gateway_topic(gateway_id: str, measurement: str) -> str:
    """`iotorino/v1/gateway/{gateway_id}/{measurement}`: a BLE gateway's reading about itself."""
    return topic("gateway", gateway_id, None, measurement)


def topic_filter(site: str, measurement: str) -> str:
    """The MQTT filter of every topic of one site kind and measurement, e.g. `iotorino/v1/beacon/+/+/beacon_sighting`."""
    if site not in _SEGMENTS or not _is_level(measurement):
        raise Rejected("unknown_topic", "no such native topic family", field="topic", value=[site, measurement],
                       accepted=", ".join(_SEGMENTS) + " and a measurement name")
    return PREFIX + "/".join([site] + ["+"] * (_SEGMENTS[site] - 2) + [measurement])


def _is_level(level: str | None) -> bool:
    return bool(level) and "/" not in level and not any(c in level for c in _WILDCARDS)


# -- payloads -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NativePayload:
    """A decoded native payload: `fields` as sent, `time_ns` (UTC epoch ns) or None when the device sent none."""

    fields: Mapping[str, object]
    time_ns: int | None


def decode(payload: bytes) -> NativePayload:
    """The fields and time of a native payload; `Rejected` names what breaks the contract.

    Field values are not checked here: that is the catalogue's job
    (iotorino.core.catalogue), which knows each field's type and range.
    """
    document = parse_json_object(payload)
    unknown = set(document) - set(PAYLOAD_KEYS)
    if unknown:
        key = sorted(unknown)[0]
        raise Rejected("schema", "unknown top-level key", field=key, value=document[key], accepted="time, fields")
    fields = document.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise Rejected("schema", "'fields' must be a non-empty object", field="fields", value=fields,
                       accepted='{"<field>": <number>, ...}')
    return NativePayload(fields, parse_time(document["time"]) if "time" in document else None)


def encode(fields: Mapping[str, object], time_ns: int | None) -> bytes:
    """The native payload of `fields` measured at `time_ns` (None: no time, the collector's receive time is used).

    A non-finite float is written as `NaN`/`Infinity` rather than raising in
    the sender; the collector quarantines that field (it is out of every range).
    """
    document: dict[str, object] = {} if time_ns is None else {"time": format_ns(time_ns)}
    document["fields"] = dict(fields)
    return json.dumps(document, separators=(",", ":")).encode()


# -- JSON text: what every JSON format of the collector shares -------------------------------------------

_UTF8_BOM = b"\xef\xbb\xbf"
# A Python int of more digits than this cannot be converted from text (sys.get_int_max_str_digits()).
_MAX_INT_DIGITS = 4300


def parse_json(payload: bytes) -> object:
    """The payload as any JSON document; `Rejected('undecodable')` says whether the text, the encoding or a limit failed.

    Only UTF-8 is accepted (RFC 8259 section 8.1), without a byte order
    mark: Python's `json.loads` would otherwise guess UTF-16 or UTF-32 from
    the first bytes and store what the contract refuses.
    """
    if payload.startswith(_UTF8_BOM):
        raise Rejected("undecodable", "payload starts with a byte order mark", field="payload", value=payload[:60],
                       accepted="UTF-8 JSON without a byte order mark (RFC 8259 section 8.1)")
    try:
        text = bytes(payload).decode("utf-8")
    except UnicodeDecodeError as exc:
        utf16 = payload[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in payload[:4]
        problem = "UTF-16 or UTF-32, not UTF-8" if utf16 else f"not UTF-8 ({exc.reason} at byte {exc.start})"
        raise Rejected("undecodable", f"payload is {problem}", field="payload", value=payload[:60],
                       accepted="UTF-8 JSON") from None
    if "\x00" in text[:4]:
        # UTF-16/32 of ASCII text is also valid UTF-8, with NUL bytes between the characters.
        raise Rejected("undecodable", "payload is UTF-16 or UTF-32, not UTF-8", field="payload", value=payload[:60],
                       accepted="UTF-8 JSON")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Rejected("undecodable", f"payload is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
                       field="payload", value=payload[:60], accepted="UTF-8 JSON") from None
    except ValueError:  # an integer beyond the interpreter's digit limit (sys.get_int_max_str_digits())
        raise Rejected("undecodable", f"a number in the payload has more than {_MAX_INT_DIGITS} digits", field="payload",
                       value=payload[:60], accepted=f"JSON numbers of up to {_MAX_INT_DIGITS} digits") from None
    except RecursionError:
        raise Rejected("undecodable", "the payload's JSON nesting is too deep for the parser", field="payload",
                       value=payload[:60], accepted="JSON nested a few hundred levels at most") from None
    if "\\u" in text:  # only an escape can make a lone surrogate, which has no UTF-8 form
        lone = _lone_surrogate(document)
        if lone is not None:
            raise Rejected("undecodable", "a JSON string holds a lone UTF-16 surrogate escape, which is not text",
                           field="payload", value=lone.encode("utf-8", "backslashreplace"),
                           accepted="UTF-8 JSON whose \\u escapes pair surrogates") from None
    return document


def _lone_surrogate(document: object) -> str | None:
    """The first string (key or value) of `document` holding an unpaired surrogate, else None."""
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return item
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def parse_json_object(payload: bytes) -> dict:
    """The payload as a JSON object; `Rejected('undecodable')` for anything else."""
    document = parse_json(payload)
    if not isinstance(document, dict):
        raise Rejected("undecodable", "payload is JSON but not an object", field="payload",
                       value=document, accepted="a JSON object")
    return document


def topic_of(address: TopicAddress) -> str:
    """The native topic naming `address` (the inverse of `parse`)."""
    return topic(address.site, address.site_id, address.point, address.measurement)
