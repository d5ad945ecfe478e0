"""A lean MQTT v5 subscriber session: persistent, QoS 1, manual acknowledgement, read in large chunks.

Why not paho here: paho reads every packet with several one-byte `recv`
calls, a `select` and a `Properties` object per message, and sends one
PUBACK per system call; on this project's 2-core machines that caps a bare
paho subscriber at ~14,000 msg/s before any decoding. This session reads
up to 256 KiB per `recv`, hands the collector every complete PUBLISH of the
chunk at once (`on_messages`), and sends the acknowledgements of a whole
batch in one `sendall`. Pure parsing lives in `ingest.mqtt.packets`.

It implements what the collector needs and no more: CONNECT (clean start
off, session expiry, receive maximum, user/password, TLS), SUBSCRIBE at QoS
1, PUBLISH at QoS 0/1 in, PUBACK out, keep-alive pings, reconnect with
exponential backoff (1 s to 30 s), resubscribe on every connection.

Whatever the broker sends ends in a reconnect, never in a dead thread: a
malformed packet is a `ProtocolError` (the connection is dropped and made
again), and any other exception — a bug met on some input, or in a callback —
closes the connection, reports the disconnection and reaches the thread's
supervisor (iotorino.core.supervisor), which logs it once, counts it in
`iotorino_thread_restarts_total{thread="mqtt-session"}` and runs the loop
again. A fuzz test feeds the session random byte streams from a loopback
"broker" to show it.
"""

from __future__ import annotations

import logging
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from ingest.mqtt import packets
from iotorino.core.supervisor import Supervisor

log = logging.getLogger(__name__)

READ_CHUNK = 256 * 1024  # bytes per recv
IO_TIMEOUT_S = 1.0  # longest a single recv or send may block (seconds)
RECONNECT_FIRST_S, RECONNECT_MAX_S = 1.0, 30.0


# The CONNACK refusals an operator meets in practice (MQTT v5, section 3.2.2.2).
CONNACK_REASONS = {
    0x84: "unsupported protocol version",
    0x85: "client id not valid",
    0x86: "bad user name or password",
    0x87: "not authorized: check mqtt.username and the password variable",
    0x88: "server unavailable",
    0x89: "server busy",
    0x8A: "banned",
    0x8C: "bad authentication method",
    0x97: "quota exceeded",
}


@dataclass(frozen=True)
class SessionSettings:
    """What the broker connection needs (see ingest.mqtt.config.MqttSettings for each key)."""

    host: str
    port: int
    client_id: str
    keepalive_s: int
    session_expiry_s: int
    receive_maximum: int
    username: str = ""
    password: str = ""
    tls: bool = False
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""


class MqttSession:
    """One persistent subscriber session; callbacks run on its network thread.

    `on_connect(session_present)`, `on_subscribed(failures)`, `on_disconnect(reason)`
    and `on_messages(generation, [(packet_id, topic, payload), ...])`; packet id 0 is QoS 0.
    """

    def __init__(self, settings: SessionSettings, filters: Sequence[str]) -> None:
        self.settings = settings
        self.filters = list(filters)
        self.generation = 0  # connection count; acks of an older connection are dropped
        self.on_connect: Callable[[bool], None] = lambda session_present: None
        self.on_subscribed: Callable[[list[str]], None] = lambda failures: None
        self.on_disconnect: Callable[[str], None] = lambda reason: None
        self.on_messages: Callable[[int, list[tuple[int, str, bytes]]], None] = lambda generation, batch: None
        self._sock: socket.socket | None = None
        self._last_out = 0.0  # monotonic time of the last packet sent
        # One thread at a time on the socket: acks are sent from a writer thread
        # while this thread reads, and an SSL object must never be used by two
        # threads at once. Reads take the lock only once select() says data is there.
        self._io_lock = threading.Lock()
        # Flow control on our side too: mosquitto 2.0.11 sends more than the
        # Receive Maximum once acknowledgements flow (eclipse-mosquitto#2301), so
        # the network thread stops reading while that many messages are unacknowledged.
        self._unacked = 0
        self._room = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- called from other threads ---------------------------------------------------

    def start(self, supervisor: Supervisor | None = None) -> None:
        """Connect (and keep reconnecting) on the network thread, run under `supervisor` (its own if None)."""
        supervisor = supervisor or Supervisor("mqtt-session")
        self._thread = supervisor.spawn("mqtt-session", self._run, backoff_s=(RECONNECT_FIRST_S, RECONNECT_MAX_S))

    def ack(self, generation: int, packet_ids: Sequence[int]) -> None:
        """Acknowledge QoS 1 messages in the given order, if their connection is still the current one."""
        if generation != self.generation:
            return
        acked = [pid for pid in packet_ids if pid]
        body = packets.pubacks(acked)
        if body:
            try:
                self._send(body)
            except OSError:
                return  # connection lost: the broker redelivers these to the next connection
            with self._room:
                if generation == self.generation:
                    self._unacked -= len(acked)
                    self._room.notify()

    def reconnect(self) -> None:
        """Drop the connection; the network thread reconnects and resubscribes."""
        with self._room:  # a network thread waiting for acks must read again to see the connection end
            self._unacked = 0
            self._room.notify()
        sock = self._sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        """Disconnect normally (the session and its unacknowledged messages stay with the broker)."""
        self._stop.set()
        try:
            self._send(packets.DISCONNECT)
        except OSError:
            pass
        self.reconnect()
        if self._thread is not None:
            self._thread.join(timeout=10)

    # -- network thread -----------------------------------------------------------------

    def _run(self) -> None:
        delay = RECONNECT_FIRST_S
        while not self._stop.is_set():
            reason = "connection failed"
            try:
                self._connect()
                delay = RECONNECT_FIRST_S
                reason = self._read_until_closed()
            except (OSError, packets.ProtocolError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            except Exception as exc:
                # Unexpected: the supervisor logs it and runs this loop again (a reconnect). Its text is
                # not used, since it may quote what the broker sent.
                reason = f"unexpected {type(exc).__name__}"
                raise
            finally:
                self._close()
                if not self._stop.is_set():
                    self.on_disconnect(reason)
            if self._stop.is_set():
                break
            self._stop.wait(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)

    def _connect(self) -> None:
        s = self.settings
        sock = socket.create_connection((s.host, s.port), timeout=10)
        if s.tls:
            context = ssl.create_default_context(cafile=s.ca_file or None)
            if s.cert_file:  # a client certificate, for brokers that require one
                context.load_cert_chain(s.cert_file, s.key_file or None)
            sock = context.wrap_socket(sock, server_hostname=s.host)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._buffer = bytearray()
        self._send(packets.connect(s.client_id, s.keepalive_s, s.session_expiry_s, s.receive_maximum,
                                   s.username, s.password))
        kind, flags, body = self._read_packet()
        if kind != packets.CONNACK:
            raise packets.ProtocolError(f"expected CONNACK, got packet type {kind}")
        session_present, code, keepalive = packets.parse_connack(body)
        if code >= 0x80:
            meaning = CONNACK_REASONS.get(code, "see the MQTT v5 CONNACK reason codes")
            raise ConnectionRefusedError(f"broker refused the connection: reason code 0x{code:02x} ({meaning})")
        self._keepalive = keepalive or s.keepalive_s
        with self._room:
            self.generation += 1
            self._unacked = 0
        self.on_connect(session_present)
        self._send(packets.subscribe(1, self.filters))

    def _read_until_closed(self) -> str:
        sock = self._sock
        assert sock is not None
        sock.settimeout(IO_TIMEOUT_S)
        wait = max(1.0, self._keepalive / 2)
        last_in = time.monotonic()
        self._dispatch()  # queued messages may have arrived with the CONNACK
        while not self._stop.is_set():
            if self._wait_for_room(wait):
                last_in = time.monotonic()  # nothing was read while waiting: no keep-alive verdict
                continue
            chunk = None
            # TLS may hold decrypted bytes that select() cannot see.
            buffered = isinstance(sock, ssl.SSLSocket) and sock.pending()
            if buffered or select.select([sock], [], [], wait)[0]:
                with self._io_lock:
                    try:
                        chunk = sock.recv(READ_CHUNK)
                    except (socket.timeout, ssl.SSLWantReadError):
                        chunk = None  # a TLS record not complete yet
            now = time.monotonic()
            if now - self._last_out >= self._keepalive / 2:
                self._send(packets.PINGREQ)  # nothing sent for a while (e.g. no acks): keep the session alive
            if chunk is None:
                if now - last_in > 1.5 * self._keepalive:
                    return "keep-alive: no answer from the broker"
                continue
            if not chunk:
                return "connection closed"
            last_in = now
            self._buffer += chunk
            self._dispatch()
        return "stopped"

    def _wait_for_room(self, wait: float) -> bool:
        """While `receive_maximum` messages are unacknowledged, wait for acks (pinging); True if it waited."""
        with self._room:
            if self._unacked < self.settings.receive_maximum:
                return False
            self._room.wait(wait)
        if time.monotonic() - self._last_out >= self._keepalive / 2:
            self._send(packets.PINGREQ)
        return True

    def _dispatch(self) -> None:
        messages, consumed, others = packets.split_publishes(self._buffer)
        del self._buffer[:consumed]
        for kind, body in others:
            if kind == packets.SUBACK:
                self.on_subscribed(packets.parse_suback_failures(body))
            elif kind == packets.DISCONNECT_TYPE:
                raise packets.ProtocolError(f"broker sent DISCONNECT {body[:1].hex() or '00'}")
        if messages:
            with self._room:
                self._unacked += sum(1 for message in messages if message[0])
            self.on_messages(self.generation, messages)

    def _read_packet(self) -> tuple[int, int, bytes]:
        """One whole packet, read synchronously (for CONNACK)."""
        assert self._sock is not None
        while True:
            parsed = packets.read_one(self._buffer)
            if parsed:
                kind, flags, body, consumed = parsed
                del self._buffer[:consumed]
                return kind, flags, body
            chunk = self._sock.recv(READ_CHUNK)
            if not chunk:
                raise ConnectionResetError("connection closed before CONNACK")
            self._buffer += chunk

    def _send(self, data: bytes) -> None:
        with self._io_lock:
            sock = self._sock
            if sock is None:
                raise ConnectionError("not connected")
            sock.sendall(data)
            self._last_out = time.monotonic()

    def _close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.close()
            except OSError:
                pass
