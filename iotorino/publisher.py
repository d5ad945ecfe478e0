"""Publishing the durable outbox over MQTT with QoS 1 (paho), oldest first, deleting each row on its PUBACK.

Both threads of a `Publisher` (the sender and paho's network loop) run under
an `iotorino.core.supervisor.Supervisor`: an unexpected exception is logged
once (type and frames, never a payload), counted in
`iotorino_thread_restarts_total{thread}` and the thread restarts; messages
not yet acknowledged stay in the outbox (`iotorino.core.outbox`) and are sent
again. The broker link's state is the `<name>-broker` component's readiness.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import Callable, Iterable

import paho.mqtt.client as mqtt
from prometheus_client import CollectorRegistry

from iotorino.core.outbox import Message, Outbox
from iotorino.core.supervisor import Supervisor

log = logging.getLogger(__name__)

# Unacknowledged messages handed to paho at once; the rest wait in the outbox.
MAX_IN_FLIGHT = 200
# Seconds `stop` waits for paho's network loop to end after the disconnect.
_JOIN_S = 5.0


def paho_client(client_id: str) -> mqtt.Client:
    """A paho 2.x client; the outbox, not a broker session, is what makes publishing durable."""
    return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)


class Publisher:
    """Publishes the outbox's messages with QoS 1 whenever the broker link is up.

    One sender thread owns the paho publish calls and the mid -> row map;
    paho's callbacks only queue acknowledgements and wake it (calling back
    into paho from its own callbacks would deadlock on paho's locks). Both the
    sender (`<name>-sender`) and paho's network loop (`<name>-mqtt`) run under
    the supervisor given to `start`.
    """

    def __init__(self, host: str, port: int, client_id: str, outbox: Outbox, *, keepalive_s: int = 30,
                 client_factory: Callable[[str], mqtt.Client] = paho_client, name: str = "outbox") -> None:
        self.outbox = outbox
        self.name = name
        self._host, self._port, self._keepalive = host, port, keepalive_s
        self._client = client_factory(client_id)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._client.reconnect_delay_set(1, 30)
        self._acked: deque[int] = deque()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._supervisor: Supervisor | None = None
        self._own_supervisor = False
        self._threads: list[threading.Thread] = []
        self.connected = threading.Event()

    def start(self, supervisor: Supervisor | None = None) -> None:
        """Connect in the background (paho reconnects by itself) and start the sender, both under
        `supervisor` (a private one, its counts in a registry of its own, if None)."""
        if supervisor is None:
            supervisor = Supervisor(self.name, registry=CollectorRegistry())
            self._own_supervisor = True
        self._supervisor = supervisor
        self._broker_ready(False)
        self._client.connect_async(self._host, self._port, self._keepalive)
        self._threads = [supervisor.spawn(f"{self.name}-mqtt", self._network_loop),
                         supervisor.spawn(f"{self.name}-sender", self._send_loop)]

    def publish(self, messages: Iterable[Message]) -> None:
        """Put `messages` in the outbox durably; the sender sends them when the link allows."""
        messages = list(messages)
        if messages:
            self.outbox.put(messages)
            self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> int:
        """Wait up to `timeout_s` for the outbox to drain, then disconnect; returns messages left in it."""
        deadline = time.monotonic() + timeout_s
        while self.outbox.count() and time.monotonic() < deadline and self._sender_running():
            self._wake.set()
            time.sleep(0.05)
        self._stopping.set()
        self._wake.set()
        self._client.disconnect()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(_JOIN_S)
        if self._own_supervisor and self._supervisor is not None:
            self._supervisor.stop()
        left = self.outbox.count()
        if left:
            log.warning("stopping with %d messages still in the outbox; they are sent at the next start", left)
        return left

    def _sender_running(self) -> bool:
        return bool(self._threads) and self._threads[-1].is_alive()

    def _network_loop(self) -> None:
        """paho's network loop in this (supervised) thread; returns once `stop` disconnected."""
        while not self._stopping.is_set():
            self._client.loop_forever(retry_first_connection=True)
            self._stopping.wait(1.0)  # returned without `stop`: never spin

    def _send_loop(self) -> None:
        # A restarted sender starts from the oldest row again: what was in flight may be sent
        # twice (at-least-once), never skipped.
        in_flight: dict[int, int] = {}  # paho mid -> outbox row id
        last_sent_id = 0
        self._acked.clear()
        while not self._stopping.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            while self._acked:
                row_id = in_flight.pop(self._acked.popleft(), None)
                if row_id is not None:
                    self.outbox.delete(row_id)
            room = MAX_IN_FLIGHT - len(in_flight)
            if not self.connected.is_set() or room <= 0:
                continue
            for row_id, message in self.outbox.oldest(room, last_sent_id):
                info = self._client.publish(message.topic, message.payload, qos=1, retain=message.retain)
                # NO_CONN: the link dropped meanwhile; paho keeps the QoS 1
                # message and sends it on reconnect, so it is in flight too.
                if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                    break
                in_flight[info.mid] = row_id
                last_sent_id = row_id

    def _broker_ready(self, up: bool) -> None:
        if self._supervisor is not None:
            self._supervisor.set_ready(f"{self.name}-broker", up,
                                       "" if up else f"broker link to {self._host}:{self._port} is down; "
                                                     "messages wait in the outbox")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker refused the connection: %s", reason_code)
            return
        # Messages in flight on the old link keep their mids: paho sends them
        # again on this link and their PUBACKs delete them from the outbox.
        self.connected.set()
        self._broker_ready(True)
        self._wake.set()
        log.info("broker link up (%s:%d)", self._host, self._port)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        if not self._stopping.is_set():
            self._broker_ready(False)
            log.warning("broker link down (%s); messages wait in the outbox", reason_code)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._acked.append(mid)
        self._wake.set()
