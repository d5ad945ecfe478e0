"""The collector's MQTT session on the real broker: keep-alive, reconnect and resubscribe, acknowledgement."""

from __future__ import annotations

import time

import paho.mqtt.publish as paho_publish
import pytest

from ingest.mqtt.session import MqttSession, SessionSettings
from tests.mqtt.streams import wait_for

pytestmark = pytest.mark.integration


def _session(port: int, keepalive_s: int = 2) -> tuple[MqttSession, list]:
    events: list = []
    session = MqttSession(SessionSettings("127.0.0.1", port, "session-test", keepalive_s, 600, 100), ["t/#"])
    session.on_connect = lambda present: events.append(("connect", present))
    session.on_subscribed = lambda failures: events.append(("subscribed", failures))
    session.on_disconnect = lambda reason: events.append(("disconnect", reason))
    session.on_messages = lambda generation, batch: events.append(("messages", generation, batch))
    return session, events


def test_idle_session_stays_connected_and_reconnect_resubscribes(mosquitto):
    session, events = _session(mosquitto.port)
    session.start()
    try:
        wait_for(lambda: ("subscribed", []) in events, what="the subscription")
        time.sleep(5)  # 2.5 keep-alive intervals without traffic: pings keep the session
        assert [e for e in events if e[0] == "disconnect"] == []
        session.reconnect()
        wait_for(lambda: events.count(("subscribed", [])) == 2, what="the second subscription")
        assert ("connect", True) in events and session.generation == 2
    finally:
        session.stop()


def test_unacknowledged_messages_come_back_on_the_next_connection(mosquitto):
    session, events = _session(mosquitto.port)
    session.start()
    wait_for(lambda: ("subscribed", []) in events, what="the subscription")
    paho_publish.multiple([{"topic": "t/1", "payload": b"one", "qos": 1}, {"topic": "t/2", "payload": b"two", "qos": 1}],
                          hostname="127.0.0.1", port=mosquitto.port)
    wait_for(lambda: sum(len(e[2]) for e in events if e[0] == "messages") == 2, what="two messages")
    first = [m for e in events if e[0] == "messages" for m in e[2]]
    session.ack(session.generation, [first[0][0]])  # only the first
    session.stop()
    again, events = _session(mosquitto.port)
    again.start()
    try:
        wait_for(lambda: any(e[0] == "messages" for e in events), what="the redelivery")
        time.sleep(0.5)
        redelivered = [(topic, payload) for e in events if e[0] == "messages" for _, topic, payload in e[2]]
        assert redelivered == [("t/2", b"two")]
    finally:
        again.stop()


def test_acks_of_an_older_connection_are_dropped(mosquitto):
    session, _ = _session(mosquitto.port)
    sent = []
    session._send = lambda data: sent.append(data)  # no connection needed to see what would be sent
    session.generation = 3
    session.ack(2, [5])
    session.ack(3, [5, 0, 6])
    assert sent == [b"\x40\x02\x00\x05\x40\x02\x00\x06"]
