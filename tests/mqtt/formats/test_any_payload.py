"""Property: whatever bytes arrive, every decoder (and the pipeline after it) either decodes or raises `Rejected`."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.mqtt.formats import FORMATS
from iotorino.core.errors import Rejected

from .support import NOW
from .test_chirpstack import OUTDOOR_EVENT, OUTDOOR_TOPIC
from .test_senml import STREET_SERIES_PACK, STREET_TOPIC
from .test_ttn import METER_TOPIC, METER_UPLINK

# A topic each decoder accepts, so arbitrary payloads reach the payload parsing.
TOPICS = {
    "native": "iotorino/v1/street/TO-SU-0001/weather",
    "senml": STREET_TOPIC,
    "ttn": METER_TOPIC,
    "chirpstack": OUTDOOR_TOPIC,
}
# The member names each format reads, so generated JSON hits the interesting paths.
KEYS = st.sampled_from([
    "time", "fields", "temperature", "pm25", "co2", "bn", "bt", "bu", "bv", "bver", "n", "u", "v", "vb", "vs",
    "s", "t", "uplink_message", "decoded_payload", "rx_metadata", "received_at", "end_device_ids", "device_id",
    "object", "rxInfo", "gwTime", "nsTime", "deviceInfo", "devEui", "energy_import_kwh", "humidity",
]) | st.text(max_size=8)
SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(min_value=-(10**400), max_value=10**400)
           | st.floats(allow_nan=True) | st.text(max_size=30)
           | st.sampled_from(["Cel", "K", "hPa", "Pa", "%", "/", "2026-11-18T09:45:00Z", "urn:dev:x:", "weather/"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=6) | st.dictionaries(KEYS, inner, max_size=6),
                    max_leaves=30)
CAPTURED = {"native": b'{"time": "2026-11-18T09:45:00Z", "fields": {"temperature": 3.5}}', "senml": STREET_SERIES_PACK,
            "ttn": METER_UPLINK, "chirpstack": OUTDOOR_EVENT}


def _only_rejections(fmt: str, payload: bytes, context, pipeline) -> None:
    for run in (lambda: FORMATS[fmt](TOPICS[fmt], payload, context),
                lambda: pipeline.process(TOPICS[fmt], payload, NOW, fmt)):
        try:
            run()
        except Rejected:
            pass


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@SETTINGS
@given(payload=st.binary(max_size=300))
def test_arbitrary_bytes(fmt, payload, context, pipeline):
    _only_rejections(fmt, payload, context, pipeline)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@SETTINGS
@given(document=JSON)
def test_arbitrary_json(fmt, document, context, pipeline):
    _only_rejections(fmt, json.dumps(document).encode(), context, pipeline)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@SETTINGS
@given(data=st.data())
def test_captured_messages_with_one_member_replaced(fmt, data, context, pipeline):
    """Mutations of a real message: one object member anywhere replaced by arbitrary JSON."""
    document = json.loads(CAPTURED[fmt])
    node = document
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        key = data.draw(st.sampled_from(keys))
        if isinstance(node[key], (dict, list)) and node[key] and data.draw(st.booleans()):
            node = node[key]
            continue
        node[key] = data.draw(JSON)
        break
    _only_rejections(fmt, json.dumps(document).encode(), context, pipeline)


def test_deeply_nested_json_is_rejected_not_a_crash(context):
    for fmt in FORMATS:
        with pytest.raises(Rejected):
            FORMATS[fmt](TOPICS[fmt], b"[" * 100_000, context)
