"""No message can stall the collector: on the real broker and database, whatever is published under the
subscribed topics, a good message published afterwards is stored.

The poison message of the regression test is the one that stopped all
ingestion before: a JSON key written as a lone surrogate escape
(`"\\ud800"`), which the decoder correctly rejects but whose rejection text
SQLite's UTF-8 codec refused, so the dead-letter write failed, the broker
redelivered the message and nothing else was ever stored.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time

import paho.mqtt.publish as paho_publish
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from ingest.mqtt.deadletters import DeadLetterStore
from iotorino.core import inventory
from tests.mqtt.streams import CollectorProcess, points, publish, stored_points, street_stream, wait_for
from tests.mqtt.test_collector_faults import collector_config  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration

INV = inventory.default()
UNIT = next(u for u in INV.street_units.values() if "air_quality" in INV.profiles[u.profile].measurements)
UNIT_TOPIC = f"iotorino/v1/street/{UNIT.id}/air_quality"
NOW_S = int(time.time())
POISON = json.dumps({"time": NOW_S - 60, "fields": {"\ud800": 1}}).encode()  # b'..."\\ud800": 1...'
assert b"\\ud800" in POISON

# Topic levels a broker accepts in a PUBLISH: UTF-8 without wildcards, NUL, control or non-characters.
_level = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn"), blacklist_characters="+#/"),
                 max_size=12)
topics = st.one_of(
    st.just(UNIT_TOPIC),
    st.sampled_from(["street", "school", "gateway", "beacon"]).flatmap(
        lambda kind: st.lists(_level, min_size=1, max_size=4).map(lambda levels: f"iotorino/v1/{kind}/"
                                                                  + "/".join(levels))),
)
# Any text, lone surrogates included: json.dumps writes those as "\udXXX" escapes.
_text = st.text(st.characters(blacklist_categories=()), max_size=12)
_value = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _text,
                   st.lists(st.integers(), max_size=3), st.integers(min_value=10**30, max_value=10**40))
payloads = st.one_of(
    st.binary(max_size=400),
    st.fixed_dictionaries({"time": st.one_of(st.just(NOW_S - 60), st.floats(), _text, st.integers()),
                           "fields": st.dictionaries(st.one_of(st.sampled_from(["pm25", "no2"]), _text), _value,
                                                     max_size=4)}).map(lambda d: json.dumps(d).encode()),
    st.recursive(st.one_of(st.none(), st.floats(), _text, st.integers()),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
                 max_leaves=8).map(lambda d: json.dumps(d).encode()),
)
_good_times = itertools.count()


def _good_message() -> tuple[str, bytes, int]:
    """A valid reading of UNIT with a time no other message uses (ns)."""
    time_ms = (NOW_S - 3600) * 1000 + next(_good_times)
    return UNIT_TOPIC, json.dumps({"time": time_ms / 1000, "fields": {"pm25": 12.5}}).encode(), time_ms * 1_000_000


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(topic=topics, payload=payloads)
@example(topic=UNIT_TOPIC, payload=POISON)
@example(topic=UNIT_TOPIC, payload=b"\xff\xfe{\x00")
def test_after_any_message_a_good_one_is_stored(mqtt_collector, influx, mosquitto, topic, payload):
    good_topic, good_payload, good_ns = _good_message()
    paho_publish.multiple([{"topic": topic, "payload": payload, "qos": 1},
                           {"topic": good_topic, "payload": good_payload, "qos": 1}],
                          hostname="127.0.0.1", port=mosquitto.port)
    wait_for(lambda: influx.query(f"SELECT pm25 FROM air_quality WHERE unit = '{UNIT.id}' AND time = {good_ns}"),
             what="the good message after the arbitrary one")
    assert mqtt_collector.connected.is_set() and mqtt_collector.stats.reconnects == 0


def _cli(config, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "iotorino", "deadletters", "--config", str(config), *args],
                          capture_output=True, text=True, timeout=60)


def test_poison_message_is_dead_lettered_and_storing_goes_on_also_after_a_restart(collector_config, mosquitto,
                                                                                   influx, tmp_path):
    poison = (UNIT_TOPIC, POISON, None)
    before, after = street_stream(100, seed=61), street_stream(100, seed=62)
    collector = CollectorProcess(collector_config).start()
    try:
        publish(mosquitto.port, [poison, *before])
        wait_for(lambda: stored_points(influx) >= points(before), what="the messages after the poison")
        assert collector.stop() == 0
        collector.start()  # the poison was acknowledged: the broker does not bring it back
        publish(mosquitto.port, [*after, poison])
        wait_for(lambda: stored_points(influx) == points(before + after), what="the messages after the restart")
        assert "event=disconnected" not in collector.log_text()
    finally:
        collector.stop()
    letters = list(DeadLetterStore(tmp_path / "deadletters.sqlite").list())
    assert [(d.reason, d.field, d.topic, d.payload) for d in letters] == [
        ("undecodable", "payload", UNIT_TOPIC, POISON)] * 2  # a lone surrogate escape is not text (the contract)
    listing = _cli(collector_config, "list")
    assert listing.returncode == 0 and "undecodable: 2" in listing.stdout
    shown = _cli(collector_config, "show", str(letters[0].id))
    assert shown.returncode == 0 and "\\ud800" in shown.stdout
    replayed = _cli(collector_config, "replay", "--id", str(letters[0].id))
    assert replayed.returncode == 1 and "still rejected" in replayed.stdout
