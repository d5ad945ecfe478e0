"""The native topic contract, parsed into the parts that name a device and a measurement.

    iotorino/v1/street/{unit_id}/{measurement}
    iotorino/v1/school/{school_id}/{point}/{measurement}     point: room id, meter id or "outdoor"
    iotorino/v1/beacon/{beacon_id}/{gateway_id}/{measurement}
    iotorino/v1/gateway/{gateway_id}/{measurement}             a BLE gateway's own heartbeat

Pure: no I/O. See schemas/mqtt-contract.md for the whole contract.
"""

from __future__ import annotations

from dataclasses import dataclass

from iotorino.core.errors import Rejected

PREFIX = "iotorino/v1/"
# Number of segments after the prefix for each site kind.
_SEGMENTS = {"street": 3, "school": 4, "beacon": 4, "gateway": 3}


@dataclass(frozen=True, slots=True)
class TopicAddress:
    """What a native topic names: site kind, site id, optional point, measurement."""

    site: str
    site_id: str
    point: str | None
    measurement: str


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
        shape = {"street": "street/{unit_id}/{measurement}",
                 "school": "school/{school_id}/{point}/{measurement}",
                 "beacon": "beacon/{beacon_id}/{gateway_id}/{measurement}",
                 "gateway": "gateway/{gateway_id}/{measurement}"}[site]
        raise Rejected("unknown_topic", "topic has the wrong number of levels", field="topic", value=topic,
                       accepted=PREFIX + shape)
    if expected == 3:
        return TopicAddress(site, parts[1], None, parts[2])
    return TopicAddress(site, parts[1], parts[2], parts[3])


def topic_of(address: TopicAddress) -> str:
    """The native topic naming `address` (the inverse of `parse`)."""
    point = (address.point,) if address.point is not None else ()
    return PREFIX + "/".join((address.site, address.site_id, *point, address.measurement))
