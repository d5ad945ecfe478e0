"""The native messages of the BLE beacon network: what gateways publish and the health monitor reads.

    iotorino/v1/beacon/{beacon_id}/{gateway_id}/beacon_sighting   one beacon, one gateway, one window
    iotorino/v1/gateway/{gateway_id}/ble_gateway                   a gateway's heartbeat (aggregate counts)
    iotorino/v1/beacon/{beacon_id}/{monitor_id}/beacon_status      the monitor's status changes

The BLE gateway (`ingest/ble_beacons`) writes these and the beacon health
monitor (`iotorino/beacons`) reads them; both take the names from here, so
neither imports the other. Payload: `{"time": RFC 3339, "fields": {...}}`.
`checked` keeps what the catalogue accepts of a reading, so a sighting with
one odd field (an advertised Tx power out of range) still counts.
Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import replace

from iotorino.core import catalogue, contract
from iotorino.core.contract import PREFIX
from iotorino.core.errors import Rejected
from iotorino.core.outbox import Message
from iotorino.core.reading import Reading

SIGHTING = "beacon_sighting"
HEARTBEAT = "ble_gateway"
STATUS = "beacon_status"
# The fields of a gateway heartbeat, in the order the gateway builds them (catalogue: ble_gateway).
HEARTBEAT_FIELDS = ("adverts_per_s", "matched_per_s", "scanner_restarts", "spool_messages", "uptime_s")

BEACON_TOPIC_PREFIX = f"{PREFIX}beacon"
GATEWAY_TOPIC_PREFIX = f"{PREFIX}gateway"
SIGHTINGS_FILTER = contract.topic_filter("beacon", SIGHTING)
HEARTBEATS_FILTER = contract.topic_filter("gateway", HEARTBEAT)


def reading_topic(reading: Reading) -> str:
    """The native topic of a reading about a beacon (tags beacon and gateway) or about a gateway itself."""
    tags = reading.tags
    if "beacon" in tags:
        return contract.beacon_topic(tags["beacon"], tags["gateway"], reading.measurement)
    return contract.gateway_topic(tags["gateway"], reading.measurement)


def reading_message(reading: Reading) -> Message:
    """The native message (topic and JSON payload, QoS 1, not retained) of `reading`."""
    return Message(reading_topic(reading), contract.encode(reading.fields, reading.time_ns))


def checked(reading: Reading) -> tuple[Reading | None, list[Rejected]]:
    """`reading` validated by the catalogue without the fields it rejects, and why each was left out.

    None when no field is left, or when what is wrong is not a field (an
    unknown measurement): then the list holds that one reason.
    """
    left_out: list[Rejected] = []
    while True:
        try:
            return catalogue.default().validate(reading), left_out
        except Rejected as error:
            left_out.append(error)
            if error.field not in reading.fields or len(reading.fields) == 1:
                return None, left_out
            reading = replace(reading, fields={k: v for k, v in reading.fields.items() if k != error.field})
