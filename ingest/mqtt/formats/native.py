"""The native JSON payload (schemas/native-payload.schema.json) on the native topics.

    {"time": "2026-11-21T10:00:00.000Z", "fields": {"pm25": 12.3, "no2": 41.0}}

`time` is RFC 3339 with a zone or Unix seconds; when it is missing the receive
time is used and the point is flagged with the tag `time_source=receive`.
Fields are in the catalogue's canonical units.
"""

from __future__ import annotations

import json

from iotorino.core import contract as topics
from ingest.mqtt.formats.context import DecodeContext
from iotorino.core.times import parse_time
from iotorino.core.errors import Rejected
from iotorino.core.reading import Reading

FALLBACK_TAG = ("time_source", "receive")
_KNOWN_KEYS = {"time", "fields"}


def decode(topic: str, payload: bytes, context: DecodeContext) -> list[Reading]:
    """One reading from a native message; `Rejected` names the offending field and value."""
    address = topics.parse(topic)
    tags = context.inventory.tags_for(address.site, address.site_id, address.point, address.measurement)
    document = parse_json_object(payload)
    unknown = set(document) - _KNOWN_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise Rejected("schema", "unknown top-level key", field=key, value=document[key], accepted="time, fields")
    fields = document.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise Rejected("schema", "'fields' must be a non-empty object", field="fields", value=fields,
                       accepted='{"<field>": <number>, ...}')
    if "time" in document:
        return [Reading(address.measurement, tags, fields, parse_time(document["time"]))]
    tags = {**tags, FALLBACK_TAG[0]: FALLBACK_TAG[1]}
    return [Reading(address.measurement, tags, fields, context.received_ns, time_is_fallback=True)]


def parse_json(payload: bytes) -> object:
    """The payload as any JSON document; `Rejected('undecodable')` when it is not UTF-8 JSON."""
    try:
        return json.loads(payload)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        # RecursionError: nesting deeper than the interpreter's stack, e.g. 50,000 "[".
        raise Rejected("undecodable", f"payload is not UTF-8 JSON ({exc})", field="payload",
                       value=payload[:60], accepted="UTF-8 JSON") from None


def parse_json_object(payload: bytes) -> dict:
    """The payload as a JSON object; `Rejected('undecodable')` for anything else."""
    document = parse_json(payload)
    if not isinstance(document, dict):
        raise Rejected("undecodable", "payload is JSON but not an object", field="payload",
                       value=document, accepted="a JSON object")
    return document
