"""The native fast path: the same line protocol as the generic pipeline, or the same rejection, for any message."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.mqtt import fastpath
from ingest.mqtt.pipeline import MAX_PLANS, Limits, Pipeline, Route
from iotorino.core import catalogue, inventory
from iotorino.core.errors import Rejected
from iotorino.core.lineprotocol import encode_batch

NOW = 1_794_995_200_000_000_000  # 2026-11-18T09:46:40Z
NOW_S = NOW // 10**9
INV = inventory.default()
CATALOGUE = catalogue.default()
UNIT = next(u for u in INV.street_units.values() if "air_quality" in INV.profiles[u.profile].measurements)
SCHOOL = next(iter(INV.schools.values()))
BEACON = next(iter(INV.beacons.values()))
TOPICS = {
    f"iotorino/v1/street/{UNIT.id}/air_quality": "air_quality",
    f"iotorino/v1/street/{UNIT.id}/weather": "weather",
    f"iotorino/v1/school/{SCHOOL.id}/{SCHOOL.rooms[0].id}/indoor_climate": "indoor_climate",
    f"iotorino/v1/beacon/{BEACON.id}/GW-01/beacon_sighting": "beacon_sighting",
    f"iotorino/v1/beacon/{BEACON.id}/monitor/beacon_status": "beacon_status",
    "iotorino/v1/street/TO-SU-9999/air_quality": "air_quality",  # no such unit
    f"iotorino/v1/street/{UNIT.id}/indoor_climate": "indoor_climate",  # not in its profile
    "iotorino/v1/street/x": "air_quality",  # wrong shape
}
# A message as a street unit sends it.
STREET_AIR_PAYLOAD = b'{"time": "2026-11-18T09:45:00.000Z", "fields": {"pm25": 14.2, "pm10": 22.8, "no2": 48}}'
STREET_AIR_TOPIC = next(iter(TOPICS))


@pytest.fixture(scope="module")
def pipeline():
    return Pipeline([Route("iotorino/v1/#", "native")], CATALOGUE, INV, Limits())


def generic(pipeline: Pipeline, topic: str, payload: bytes):
    """What the generic pipeline makes of a message, in the shape `Pipeline.encode` returns (set-aside values
    as their descriptions), or its rejection."""
    try:
        decoded = pipeline.decode(topic, payload, NOW)
    except Rejected as rejection:
        return rejection.describe()
    readings = decoded.readings
    return (encode_batch(readings), len(readings), max(r.time_ns for r in readings),
            fastpath.device_label(readings[0].tags), tuple(r.describe() for r in decoded.rejected))


def encoded(pipeline: Pipeline, topic: str, payload: bytes):
    try:
        result = pipeline.encode(topic, payload, NOW)
    except Rejected as rejection:
        return rejection.describe()
    return (*result[:4], tuple(r.describe() for r in result.rejected))


def test_a_street_message_takes_the_fast_path_and_matches_the_pipeline(pipeline):
    plan = fastpath.compile_topic(STREET_AIR_TOPIC, CATALOGUE, INV)
    line, time_ns = fastpath.encode(plan, STREET_AIR_PAYLOAD, 0, NOW)
    assert line == generic(pipeline, STREET_AIR_TOPIC, STREET_AIR_PAYLOAD)[0]
    assert line == f"air_quality,district={UNIT.district},unit={UNIT.id} pm25=14.2,pm10=22.8,no2=48.0 {time_ns}".encode()
    assert encoded(pipeline, STREET_AIR_TOPIC, STREET_AIR_PAYLOAD) == (line, 1, time_ns, UNIT.id, ())


@pytest.mark.parametrize("payload", [
    b'{"fields": {"pm25": 3.0}}',  # no time: the receive time and a tag
    b'{"time": "2026-11-18T09:45:00Z", "fields": {"pm25": 3.0}, "battery": 3}',  # unknown key
    b'{"time": "2026-11-18T09:45:00Z", "fields": {"pm25": 3000}}',  # out of range
    b'{"time": "2026-11-18T09:45:00Z", "fields": {"pm25": NaN}}',  # only the standard json module reads it
    b'{"time": 1, "fields": {"pm25": 3.0}}',  # milliseconds or nonsense
    b'{"time": "2025-01-01T00:00:00Z", "fields": {"pm25": 3.0}}',  # too old
    '{"time": "2026-11-18T09:45:00Z", "fields": {"pm25": 3.0}}'.encode("utf-16"),  # not UTF-8: rejected
    b'{"time": "2026-11-18T09:45:00Z", "fields": {"pm25": 3.0, "no2": 9000.0}}',  # one value set aside
])
def test_anything_unusual_is_left_to_the_pipeline(pipeline, payload):
    plan = fastpath.compile_topic(STREET_AIR_TOPIC, CATALOGUE, INV)
    assert fastpath.encode(plan, payload, NOW - 30 * 86_400 * 10**9, NOW + 600 * 10**9) is None
    assert encoded(pipeline, STREET_AIR_TOPIC, payload) == generic(pipeline, STREET_AIR_TOPIC, payload)


@pytest.mark.parametrize("payload", [
    b'{"time": "2026-11-18t09:45:00.123456789z", "fields": {"pm25": 3.0}}',  # lower case, nanoseconds kept
    b'{"time": 1794995100, "fields": {"pm25": 3.0}}',  # Unix seconds
])
def test_valid_messages_in_less_usual_forms_take_the_fast_path(pipeline, payload):
    plan = fastpath.compile_topic(STREET_AIR_TOPIC, CATALOGUE, INV)
    line, time_ns = fastpath.encode(plan, payload, NOW - 30 * 86_400 * 10**9, NOW + 600 * 10**9)
    assert encoded(pipeline, STREET_AIR_TOPIC, payload) == generic(pipeline, STREET_AIR_TOPIC, payload)
    assert generic(pipeline, STREET_AIR_TOPIC, payload)[:3] == (line, 1, time_ns)


def test_topics_of_other_formats_and_rejected_topics_get_no_plan():
    pipeline = Pipeline([Route("iotorino/v1/#", "native"), Route("iotorino/senml/#", "senml")], CATALOGUE, INV,
                        Limits())
    for topic in ("iotorino/senml/street/x", "iotorino/v1/street/TO-SU-9999/air_quality", "elsewhere/x"):
        with pytest.raises(Rejected):
            pipeline.encode(topic, STREET_AIR_PAYLOAD, NOW)
        assert pipeline._plans[topic] is None


def test_the_plan_cache_is_bounded():
    pipeline = Pipeline([Route("iotorino/v1/#", "native")], CATALOGUE, INV, Limits())
    pipeline._plans.update(dict.fromkeys((f"t/{n}" for n in range(MAX_PLANS)), None))
    assert pipeline.encode(STREET_AIR_TOPIC, STREET_AIR_PAYLOAD, NOW)[1] == 1
    assert len(pipeline._plans) <= MAX_PLANS and STREET_AIR_TOPIC in pipeline._plans


def test_remembered_float_texts_keep_negative_zero_and_stay_bounded(monkeypatch):
    monkeypatch.setattr(fastpath, "_float_texts", {})
    plan = fastpath.compile_topic(f"iotorino/v1/street/{UNIT.id}/weather", CATALOGUE, INV)

    def text(value: bytes) -> bytes:
        line, _ = fastpath.encode(plan, b'{"time": 1794995100, "fields": {"temperature": %s}}' % value, 0, NOW)
        return line.split(b" ")[1]

    assert [text(v) for v in (b"0.0", b"-0.0", b"0.0", b"-12.5", b"-12.5")] == [
        b"temperature=0.0", b"temperature=-0.0", b"temperature=0.0", b"temperature=-12.5", b"temperature=-12.5"]
    assert fastpath._float_texts == {-12.5: "-12.5"}
    fastpath._float_texts.update((n + 0.5, "") for n in range(fastpath.MAX_FLOAT_TEXTS))
    assert text(b"3.25") == b"temperature=3.25"
    assert fastpath._float_texts == {3.25: "3.25"}  # emptied when full, then the new text kept


def _plausible(field) -> st.SearchStrategy:
    """Values the catalogue accepts for `field`, of its type or (for floats) an integer."""
    if field.type == "boolean":
        return st.booleans()
    whole = st.integers(min_value=int(field.low), max_value=int(field.high))
    if field.type == "integer":
        return whole
    return st.floats(min_value=field.low, max_value=field.high) | whole


ODD_VALUES = (st.floats(allow_nan=True) | st.integers(min_value=-(10**30), max_value=10**30) | st.booleans()
              | st.text(max_size=5) | st.none() | st.lists(st.integers(), max_size=2))
ODD_KEYS = st.sampled_from(["bogus", "pm 25", "a=b", ""])
# Times around the window (30 days back, 10 minutes ahead), and odd ones.
TIMES = (st.floats(min_value=NOW_S - 31 * 86_400, max_value=NOW_S + 700)
         | st.integers(min_value=NOW_S - 31 * 86_400, max_value=NOW_S + 700)
         | st.sampled_from(["2026-11-18T09:45:00.000Z", "2026-11-18T09:45:00+01:00"]))
ODD_TIMES = (st.integers(min_value=-100, max_value=10**15) | st.none() | st.booleans()
             | st.sampled_from(["2026-11-18T09:45:00", "yesterday", "2026-11-18T09:45:00.123456789Z"]))


@st.composite
def messages(draw) -> tuple[str, dict]:
    """A topic and a document for it: mostly plausible, with odd keys, values and times mixed in."""
    topic = draw(st.sampled_from(sorted(TOPICS)))
    specs = CATALOGUE.measurements[TOPICS[topic]].fields
    names = draw(st.lists(st.sampled_from(sorted(specs)), min_size=1, max_size=6))
    if not draw(st.integers(0, 9)):
        names.append(draw(ODD_KEYS))
    fields = {name: draw(_plausible(specs[name]) if name in specs and draw(st.integers(0, 19)) else ODD_VALUES)
              for name in names}
    document = {"fields": fields if draw(st.integers(0, 19)) else draw(ODD_VALUES)}
    if draw(st.integers(0, 9)):
        document["time"] = draw(TIMES if draw(st.integers(0, 4)) else ODD_TIMES)
    if not draw(st.integers(0, 19)):
        document[draw(st.sampled_from(["extra", "time", "fields"]))] = draw(ODD_VALUES)
    return topic, document


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=messages(), compact=st.booleans())
def test_same_outcome_as_the_pipeline(pipeline, message, compact):
    topic, document = message
    payload = json.dumps(document, separators=(",", ":") if compact else None).encode()
    assert encoded(pipeline, topic, payload) == generic(pipeline, topic, payload)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.binary(max_size=120) | st.text(max_size=120).map(str.encode))
def test_same_outcome_as_the_pipeline_for_any_bytes(pipeline, payload):
    assert encoded(pipeline, STREET_AIR_TOPIC, payload) == generic(pipeline, STREET_AIR_TOPIC, payload)


def test_duplicate_keys_read_as_the_json_module_reads_them(pipeline):
    payload = b'{"time": 1794995100, "fields": {"pm25": 1.0, "pm10": 2.0, "pm25": 3.0}}'
    assert encoded(pipeline, STREET_AIR_TOPIC, payload) == generic(pipeline, STREET_AIR_TOPIC, payload)
