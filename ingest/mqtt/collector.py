"""The MQTT collector: wiring between the broker, the pipeline, the store and the dead letters.

Delivery: QoS 1 with a persistent session and manual acknowledgement. A
message is acknowledged only after its readings were accepted by the store,
or after it was committed to the dead letters. Until then the broker keeps it
and redelivers it after any crash; device timestamps make the rewrite an
overwrite, not a duplicate. The broker sends at most `receive_maximum`
unacknowledged messages, which bounds the memory held here.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest.mqtt.config import CollectorConfig, MqttSettings
from ingest.mqtt.deadletters import DeadLetterStore
from ingest.mqtt.pipeline import Pipeline
from iotorino.errors import Rejected, TransientError
from iotorino.reading import Reading
from iotorino.store import PointsRejected, Writer

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0


@dataclass
class Pending:
    """A received message waiting for its readings to be stored before it is acknowledged."""

    mid: int
    generation: int  # connection it arrived on; acks never cross a reconnect
    topic: str
    payload: bytes
    readings: list[Reading]


@dataclass
class Stats:
    """Counters for the operator (and the demo's summary)."""

    received: int = 0
    stored_readings: int = 0
    stored_messages: int = 0
    rejected: Counter = field(default_factory=Counter)
    reconnects: int = 0
    write_retries: int = 0


def make_client(settings: MqttSettings) -> mqtt.Client:
    """A paho client for a persistent MQTT v5 session with manual acknowledgement."""
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=settings.client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=True,
    )
    if settings.username:
        client.username_pw_set(settings.username, settings.password)
    if settings.tls:
        client.tls_set(ca_certs=settings.ca_file or None)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


class Collector:
    """Receives on paho's network thread, writes and acknowledges on a writer thread."""

    def __init__(
        self,
        config: CollectorConfig,
        pipeline: Pipeline,
        writer: Writer,
        deadletters: DeadLetterStore,
        client_factory: Callable[[MqttSettings], mqtt.Client] = make_client,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.config = config
        self.pipeline = pipeline
        self.writer = writer
        self.deadletters = deadletters
        self.clock = clock
        self.stats = Stats()
        self._pending: queue.Queue[Pending] = queue.Queue()
        self._generation = 0
        self._stop = threading.Event()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.client = client_factory(config.mqtt)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    # -- broker side (paho's network thread) ---------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        self._generation += 1
        log.info("connected to %s:%s (session present: %s); subscribing",
                 self.config.mqtt.host, self.config.mqtt.port, flags.session_present)
        prefix = f"$share/{self.config.mqtt.share_group}/" if self.config.mqtt.share_group else ""
        client.subscribe([(prefix + route.topic, 1) for route in self.pipeline.routes])
        self.connected.set()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        failed = [str(code) for code in reason_codes if code.is_failure]
        if failed:
            log.error("subscription refused by the broker: %s", ", ".join(failed))
        else:
            log.info("subscribed to %s", ", ".join(route.topic for route in self.pipeline.routes))
            self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if not self._stop.is_set():
            self.stats.reconnects += 1
            log.warning("disconnected from the broker (%s); paho reconnects", reason_code)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        self.stats.received += 1
        received_ns = self.clock()
        try:
            readings = self.pipeline.process(message.topic, message.payload, received_ns)
        except Rejected as rejection:
            self._reject(message.topic, message.payload, rejection, received_ns)
            readings = []
        except Exception as exc:  # a decoder bug must not stop the stream
            log.exception("decoder failed on a message of topic %s", message.topic)
            self._reject(message.topic, message.payload, Rejected("internal", f"decoder error: {exc!r}"), received_ns)
            readings = []
        self._pending.put(Pending(message.mid, self._generation, message.topic, message.payload, readings))

    def _reject(self, topic: str, payload: bytes, rejection: Rejected, received_ns: int) -> None:
        self.deadletters.add(topic, payload, rejection, received_ns)
        self.stats.rejected[rejection.reason] += 1
        log.warning("rejected message on %s: %s", topic, rejection.describe())

    # -- store side (writer thread) -------------------------------------------

    def _writer_loop(self) -> None:
        batch_max, delay = self.config.batch.max_readings, self.config.batch.max_delay_s
        while not (self._stop.is_set() and self._pending.empty()):
            try:
                first = self._pending.get(timeout=0.1)
            except queue.Empty:
                continue
            batch, count = [first], len(first.readings)
            deadline = time.monotonic() + delay
            while count < batch_max:
                try:
                    item = self._pending.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                batch.append(item)
                count += len(item.readings)
            if self._store(batch):
                self._ack(batch)

    def _store(self, batch: list[Pending]) -> bool:
        """Write the batch's readings, retrying transient failures; False if stopped before success."""
        backoff = BACKOFF_FIRST_S
        while True:
            try:
                self._write_or_split(batch)
                return True
            except TransientError as exc:
                if self._stop.is_set():
                    log.warning("stopping with %d messages unwritten; the broker will redeliver them", len(batch))
                    return False
                self.stats.write_retries += 1
                wait = getattr(exc, "retry_after_s", None) or backoff
                log.warning("store unavailable (%s); retrying in %.1f s", exc, wait)
                self._stop.wait(wait)
                backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _write_or_split(self, batch: Sequence[Pending]) -> None:
        readings = [r for p in batch for r in p.readings]
        if not readings:
            return
        try:
            self.writer.write(readings)
        except PointsRejected as exc:
            if len(batch) == 1:
                self._reject(batch[0].topic, batch[0].payload,
                             Rejected("store_rejected", exc.detail), self.clock())
                return
            # Find the bad message by halving; rewriting good points is an overwrite.
            middle = len(batch) // 2
            self._write_or_split(batch[:middle])
            self._write_or_split(batch[middle:])
            return
        self.stats.stored_readings += len(readings)
        self.stats.stored_messages += sum(1 for p in batch if p.readings)

    def _ack(self, batch: list[Pending]) -> None:
        for item in batch:
            if item.generation == self._generation:
                self.client.ack(item.mid, 1)

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        """Connect (persistent session) and start the network and writer threads."""
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.config.mqtt.session_expiry_s
        properties.ReceiveMaximum = self.config.mqtt.receive_maximum
        self.client.connect_async(self.config.mqtt.host, self.config.mqtt.port,
                                  keepalive=self.config.mqtt.keepalive_s, clean_start=False,
                                  properties=properties)
        self._writer = threading.Thread(target=self._writer_loop, name="iotorino-writer", daemon=True)
        self._writer.start()
        self.client.loop_start()

    def stop(self) -> None:
        """Stop receiving, store and acknowledge what is pending, disconnect."""
        self._stop.set()
        self._writer.join(timeout=60)
        self.client.disconnect()
        self.client.loop_stop()

    def run_until(self, stop: threading.Event) -> None:
        """Run until `stop` is set (by a signal handler or a test)."""
        self.start()
        try:
            stop.wait()
        finally:
            self.stop()
