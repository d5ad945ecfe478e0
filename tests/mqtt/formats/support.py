"""Helpers of the format tests: the clock and the rejection catchers."""

from __future__ import annotations

import json

import pytest

from ingest.mqtt.formats import FORMATS, DecodeContext
from ingest.mqtt.pipeline import Pipeline
from iotorino.core.times import parse_time
from iotorino.core.errors import Rejected

# The collector's clock in these tests: a few minutes after the captured messages.
NOW = parse_time("2026-11-18T09:50:00Z")


def rejection(fmt: str, topic: str, payload: bytes, context: DecodeContext) -> Rejected:
    """The `Rejected` a format's decoder raises for a message (fails the test if it decodes)."""
    with pytest.raises(Rejected) as caught:
        FORMATS[fmt](topic, payload, context)
    return caught.value


def pipeline_rejection(pipeline: Pipeline, fmt: str, topic: str, payload: bytes) -> Rejected:
    """The `Rejected` the pipeline raises for a message in format `fmt`."""
    with pytest.raises(Rejected) as caught:
        pipeline.process(topic, payload, NOW, fmt)
    return caught.value


DELETE = object()


def variant(payload: bytes, **changes: object) -> bytes:
    """A captured JSON message with members changed (`a__b=value`, path separated by `__`), or removed (DELETE)."""
    document = json.loads(payload)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = document
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return json.dumps(document).encode()
