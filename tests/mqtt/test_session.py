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



def test_at_most_receive_maximum_unacknowledged_messages_plus_one_read(mosquitto):
    """What bounds the collector's memory, even with a broker that overshoots its quota once acks flow."""
    session, events = _session(mosquitto.port)  # receive maximum 100
    session.start()
    try:
        wait_for(lambda: ("subscribed", []) in events, what="the subscription")
        payload = b"x" * 4096  # one read (256 KiB) holds at most 64 of these
        paho_publish.multiple([{"topic": f"t/{n}", "payload": payload, "qos": 1} for n in range(600)],
                              hostname="127.0.0.1", port=mosquitto.port)
        received = lambda: [m for e in events if e[0] == "messages" for m in e[2]]  # noqa: E731
        wait_for(lambda: len(received()) == 100, what="the first 100 messages")
        time.sleep(1.0)  # every chance to take more
        assert len(received()) == 100
        acked = 0
        while acked < 600:
            batch = received()[acked:acked + 40]
            session.ack(session.generation, [mid for mid, _, _ in batch])
            acked += len(batch)
            wait_for(lambda: len(received()) >= min(600, acked + 100), what="the next messages")
            time.sleep(0.2)
            assert len(received()) - acked <= 100 + 64
        assert sorted(int(topic[2:]) for _, topic, _ in received()) == list(range(600))
    finally:
        session.stop()


def test_reconnect_and_stop_reach_a_session_waiting_for_acks(mosquitto):
    session, events = _session(mosquitto.port, keepalive_s=60)  # no ping would end the wait for 30 s
    session.start()
    try:
        wait_for(lambda: ("subscribed", []) in events, what="the subscription")
        paho_publish.multiple([{"topic": f"t/{n}", "payload": b"x", "qos": 1} for n in range(150)],
                              hostname="127.0.0.1", port=mosquitto.port)
        wait_for(lambda: sum(len(e[2]) for e in events if e[0] == "messages") >= 100, what="a full window")
        session.reconnect()  # never acknowledged: the next connection gets them again, and waits again
        wait_for(lambda: ("connect", True) in events, what="the second connection", timeout=10)
        wait_for(lambda: sum(len(e[2]) for e in events if e[0] == "messages" and e[1] == 2) >= 100,
                 what="the window again")
    finally:
        session.stop()
    assert not session._thread.is_alive()  # stop() waits 10 s for it
