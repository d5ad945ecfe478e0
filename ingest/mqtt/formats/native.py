"""The native JSON payload (schemas/native-payload.schema.json) on the native topics.

    {"time": "2026-11-21T10:00:00.000Z", "fields": {"pm25": 12.3, "no2": 41.0}}

The topic and payload shapes are defined by iotorino.core.contract; this
decoder adds the inventory's tags. `time` is RFC 3339 with a zone or Unix
seconds; when it is missing the receive time is used and the point is
flagged with the tag `time_source=receive`. Fields are in the catalogue's
canonical units.
"""

from __future__ import annotations

from iotorino.core import contract
from ingest.mqtt.formats.context import DecodeContext
from iotorino.core.reading import Reading

FALLBACK_TAG = ("time_source", "receive")


def decode(topic: str, payload: bytes, context: DecodeContext) -> list[Reading]:
    """One reading from a native message; `Rejected` names the offending field and value."""
    address = contract.parse(topic)
    tags = context.inventory.tags_for(address.site, address.site_id, address.point, address.measurement)
    message = contract.decode(payload)
    if message.time_ns is not None:
        return [Reading(address.measurement, tags, message.fields, message.time_ns)]
    tags = {**tags, FALLBACK_TAG[0]: FALLBACK_TAG[1]}
    return [Reading(address.measurement, tags, message.fields, context.received_ns, time_is_fallback=True)]
