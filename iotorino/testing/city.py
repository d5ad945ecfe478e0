"""A simulated city stretch written into a real store: what the export benchmark and the export golden test load.

The fleet's simulated messages (`iotorino.simulate`) go through the MQTT
collector's own decoder, so the store holds exactly what the collector would
write. `only` keeps the devices whose topic names one of the given ids (a
small slice for tests); the device time in every payload makes the load
deterministic for a seed. Each message is taken as received when it was sent
(its simulated time), so a stretch months in the past loads like a live one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable

from iotorino.core.errors import Rejected
from iotorino.core.store.influx_v1 import InfluxV1Client
from iotorino.export.window import to_ns

BATCH = 5_000


def load_city(
    client: InfluxV1Client, start: datetime, end: datetime, seed: int, only: Iterable[str] = ()
) -> tuple[int, int]:
    """Simulate [start, end) into the store behind `client`: (messages, readings written)."""
    from ingest.mqtt import config as collector_config
    from ingest.mqtt.app import build_pipeline
    from iotorino.core import catalogue, inventory
    from iotorino.simulate import iter_messages

    keep = set(only)
    pipeline = build_pipeline(collector_config.from_dict({"subscriptions": [{"topic": "iotorino/v1/#", "format": "native"}]}))
    messages = written = 0
    batch = []
    for message in iter_messages(inventory.default(), catalogue.default(), start, end, seed):
        if keep and not keep.intersection(message.topic.split("/")):
            continue
        messages += 1
        try:
            batch += pipeline.process(message.topic, message.payload, to_ns(message.sim_time))
        except Rejected:
            continue
        if len(batch) >= BATCH:
            client.write(batch)
            written += len(batch)
            batch = []
    client.write(batch)
    return messages, written + len(batch)
