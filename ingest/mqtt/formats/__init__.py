"""Payload formats: one pure decoder per format, chosen per subscription in the config.

Every decoder has the signature `decode(topic, payload, context) -> list[Reading]`
and returns readings in the catalogue's canonical units, or raises `Rejected`.
Validation against the catalogue's ranges and the time window happens after
decoding, the same for every format (ingest.mqtt.pipeline).
"""

from __future__ import annotations

from typing import Callable

from ingest.mqtt.formats import chirpstack, native, senml, ttn
from iotorino.core import contract
from ingest.mqtt.formats.context import DecodeContext
from iotorino.core.reading import Reading

Decoder = Callable[[str, bytes, DecodeContext], list[Reading]]

# An explicit registry (no registration by import side effect).
FORMATS: dict[str, Decoder] = {
    "native": native.decode,
    "senml": senml.decode,
    "ttn": ttn.decode,
    "chirpstack": chirpstack.decode,
}

# The topic filter each format is published on by default (schemas/mqtt-contract.md);
# `iotorino decode` routes by these when no config is given.
DEFAULT_TOPICS: dict[str, str] = {
    "native": contract.ALL,
    "senml": "iotorino/senml/#",
    "ttn": "v3/+/devices/+/up",
    "chirpstack": "application/+/device/+/event/up",
}
