"""The session against a loopback "broker" that sends anything: every byte stream ends in a reconnect.

The broker here is a socket server in the test (nothing real can send
malformed MQTT on purpose): it answers the session's CONNECT with the bytes
of the example — a CONNACK and random packets, or random bytes from the
start — and closes its side. Whatever they hold, the session must connect
again, with its network thread alive, and acknowledge nothing it did not get.
"""

from __future__ import annotations

import socket
import threading
from unittest import mock

from hypothesis import given, settings, strategies as st
from prometheus_client import CollectorRegistry

from ingest.mqtt import packets, session as session_module
from ingest.mqtt.session import MqttSession, SessionSettings
from iotorino.core.supervisor import Supervisor
from tests.mqtt.streams import wait_for
from tests.mqtt.test_packets import PUBLISH_QOS1, packet_streams

CONNACK = b"\x20\x03\x00\x00\x00"  # session not present, success, no properties


class ScriptedBroker:
    """Accepts connections on loopback; answers the n-th CONNECT with `replies[n]` (the last one
    for later connections) and closes its side, or holds the connection open when the reply is None."""

    def __init__(self, replies: list[bytes | None]) -> None:
        self.replies = replies
        self.connections = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return  # closed
            reply = self.replies[min(self.connections, len(self.replies) - 1)]
            try:
                self._read_connect(conn)
                self.connections += 1
                if reply is None:
                    conn.sendall(CONNACK)
                    self._open.append(conn)
                    continue
                conn.sendall(reply)
                conn.shutdown(socket.SHUT_WR)  # the session reads everything, then the end of the stream
                conn.settimeout(2)
                while conn.recv(65536):
                    pass
            except OSError:
                pass
            conn.close()

    @staticmethod
    def _read_connect(conn: socket.socket) -> None:
        conn.settimeout(5)
        buffer = bytearray()
        while packets.read_one(buffer) is None:
            chunk = conn.recv(65536)
            if not chunk:
                raise ConnectionResetError("closed before CONNECT")
            buffer += chunk

    def close(self) -> None:
        self._server.close()
        for conn in self._open:
            conn.close()


def _session(port: int, supervisor: Supervisor | None = None) -> tuple[MqttSession, list]:
    events: list = []
    running = MqttSession(SessionSettings("127.0.0.1", port, "fuzz", 5, 600, 100), ["t/#"])
    running.on_connect = lambda present: events.append("connect")
    running.on_disconnect = lambda reason: events.append(("disconnect", reason))

    def received(generation, batch):
        events.append(("messages", batch))
        running.ack(generation, [packet_id for packet_id, _, _ in batch])

    running.on_messages = received
    running.start(supervisor)
    return running, events


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([CONNACK, b""]), packet_streams)
def test_any_byte_stream_from_the_broker_ends_in_a_reconnect(prefix, garbage):
    broker = ScriptedBroker([prefix + garbage, None])
    with mock.patch.object(session_module, "RECONNECT_FIRST_S", 0.01):
        running, events = _session(broker.port)
        try:
            wait_for(lambda: broker.connections >= 2 and "connect" in events[-1:], timeout=20,
                     what="a new connection after the stream")
            assert running._thread.is_alive()
        finally:
            running.stop()
            broker.close()
    assert not running._thread.is_alive()  # stop() ends it: no thread left behind


def test_an_unexpected_exception_in_the_network_thread_ends_in_a_reconnect_and_is_counted():
    broker = ScriptedBroker([CONNACK + PUBLISH_QOS1, None])
    registry = CollectorRegistry()
    supervisor = Supervisor("test", registry=registry)
    with mock.patch.object(session_module, "RECONNECT_FIRST_S", 0.01):
        events: list = []
        running = MqttSession(SessionSettings("127.0.0.1", broker.port, "fuzz", 5, 600, 100), ["t/#"])
        running.on_connect = lambda present: events.append("connect")
        running.on_disconnect = lambda reason: events.append(("disconnect", reason))
        running.on_messages = lambda generation, batch: 1 / 0  # a bug in the callback
        running.start(supervisor)
        try:
            wait_for(lambda: broker.connections >= 2 and events[-1:] == ["connect"], what="the reconnect")
            assert events[:2] == ["connect", ("disconnect", "unexpected ZeroDivisionError")]
            assert running._thread.is_alive()
        finally:
            running.stop()
            broker.close()
    assert registry.get_sample_value("iotorino_thread_restarts_total", {"thread": "mqtt-session"}) == 1
