"""The MQTT collector: wiring between the broker, the pipeline, the store, the spool and the dead letters.

Delivery: QoS 1 with a persistent session (fixed client id, no clean start, a
session expiry) and manual acknowledgement. A message is acknowledged only
once it is durable: its readings accepted by InfluxDB or committed to the
on-disk spool, or the message committed to the dead letters
(ingest.mqtt.delivery). Until then the broker keeps it and redelivers it
after any crash; device timestamps make the rewrite an overwrite, not a
duplicate. At most `receive_maximum` unacknowledged messages (plus one
socket read) are held here: the session stops reading at that many, which
bounds memory even when the broker overshoots its quota; when the spool is full the
collector stops acknowledging and the broker keeps the rest.

No message can stall the stream: whatever fails on one message — decoding,
validation, a 400 from the store, even an unexpected error while storing it —
ends with the message in the dead letters (raw bytes, text made safe) and
acknowledged. Only when nothing durable can take a batch (spool full or its
disk full while InfluxDB is down, dead letters' disk full) does the collector
hold it unacknowledged, with an alarm metric and one log line, and it resumes
by itself when room returns (ingest.mqtt.delivery).

Threads: the session's network thread (ingest.mqtt.session) decodes each
message (the pipeline) and queues what one read brought; two writer threads
take turns forming batches, make them durable side by side (InfluxDB works on
one while the next is formed) and acknowledge them in arrival order; the
drainer thread empties the spool; the watchdog forces a reconnect when a
connected session stays silent too long. All of them, and the HTTP server of
`/metrics`, `/healthz` and `/readyz`, run under one supervisor
(iotorino.core.supervisor): an unexpected exception is logged once, counted in
`iotorino_thread_restarts_total{thread}` and the thread runs again; one that
keeps failing (`GIVE_UP_AFTER` times in a row) fails the process, which then
exits non-zero.

Health: alive while no component failed the process. Ready while connected
and subscribed to the broker and able to take messages durably — that is,
not holding a batch for lack of room. An unreachable InfluxDB alone keeps the
collector ready: the spool takes the messages.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable

from ingest.mqtt.config import CollectorConfig, MqttSettings
from ingest.mqtt.deadletters import DeadLetterStore
from ingest.mqtt.delivery import Delivery, Stats
from ingest.mqtt.logfmt import event
from ingest.mqtt.fastpath import device_label
from ingest.mqtt.metrics import CollectorMetrics
from ingest.mqtt.pipeline import Pipeline
from ingest.mqtt.session import MqttSession, SessionSettings
from ingest.mqtt.spool import Spool, SpooledMessage
from iotorino.core import health
from iotorino.core.errors import Rejected
from iotorino.core.store import Writer
from iotorino.core.supervisor import Supervisor, safe_traceback

log = logging.getLogger(__name__)

# Batches made durable at once. With one, a backlog drains at the pace of one write after another; with
# two, InfluxDB works on one batch while the next is formed and sent (acknowledgements keep arrival order).
WRITERS = 2
# Failures in a row after which a restarting thread fails the process (its service manager restarts it).
GIVE_UP_AFTER = 10
# Seconds over which the arrival rate for the adaptive linger is measured (Collector._take_batch): long
# enough to hold several messages at a few hundred msg/s, short enough to follow a burst.
RATE_WINDOW_S = 0.05

__all__ = ["Collector", "Received", "Stats", "make_session", "device_label"]


@dataclass(slots=True)
class Received:
    """The messages of one read from the socket, decoded, waiting to become durable before they are acknowledged.

    One object per read rather than per message keeps the receive path cheap;
    all of them arrived on the same connection, in `packet_ids` order.
    """

    generation: int  # connection they arrived on; acks never cross a reconnect
    packet_ids: list[int]  # every message, accepted or rejected, in arrival order (0: QoS 0)
    accepted: list[SpooledMessage]  # their line protocol and identity
    rejected: list[tuple[str, bytes, Rejected, int]]  # topic, payload, why, received_ns
    readings: int  # how many readings the accepted ones carry (for batch sizes)


def make_session(settings: MqttSettings, filters: list[str]) -> MqttSession:
    """A persistent MQTT v5 session (QoS 1, manual acknowledgement) for `filters`."""
    return MqttSession(SessionSettings(
        settings.host, settings.port, settings.client_id, settings.keepalive_s, settings.session_expiry_s,
        settings.receive_maximum, settings.username, settings.password, settings.tls, settings.ca_file,
        settings.cert_file, settings.key_file), filters)


class Collector:
    """Receives on the session's network thread, makes durable and acknowledges on the writer threads."""

    def __init__(
        self,
        config: CollectorConfig,
        pipeline: Pipeline,
        writer: Writer,
        deadletters: DeadLetterStore,
        session_factory: Callable[[MqttSettings, list[str]], MqttSession] = make_session,
        clock: Callable[[], int] = time.time_ns,
        spool: Spool | None = None,
        metrics: CollectorMetrics | None = None,
        supervisor: Supervisor | None = None,
    ) -> None:
        self.config = config
        self.pipeline = pipeline
        self.clock = clock
        self.stats = Stats()
        self.metrics = metrics or CollectorMetrics()
        self.supervisor = supervisor or Supervisor("mqtt-collector", registry=self.metrics.registry,
                                                   give_up_after=GIVE_UP_AFTER)
        self.spool = spool or Spool(config.spool.path, config.spool.max_messages, config.spool.max_bytes)
        self.delivery = Delivery(writer, self.spool, deadletters, self.metrics, self.stats,
                                 config.batch.max_readings, clock, config.spool.probe_interval_s)
        self.delivery.on_hold = lambda held, why: self.supervisor.set_ready("durable", not held, why)
        self._http = None
        self._pending: queue.SimpleQueue[Received] = queue.SimpleQueue()
        self._stopping = threading.Event()  # no new messages are taken
        self._stop = threading.Event()  # the writer queue is flushed: other threads end
        self._last_activity = time.monotonic()
        self._writing: set[int] = set()  # sequence numbers of the batches being made durable
        self._write_done = threading.Event()  # set whenever a write ends (group commit waits on it)
        self._take_lock = threading.Lock()  # one writer at a time forms a batch, so batches follow arrival order
        self._next_batch = 0  # sequence number of the next batch formed
        self._arrived = 0  # messages taken into batches since _rate_since (under _take_lock)
        self._rate_since = time.monotonic()
        self._rate = 0.0  # messages per second arriving, as last measured (adaptive linger)
        self._ack_lock = threading.Lock()
        self._finished: dict[int, list[Received] | None] = {}  # durable batches waiting for earlier ones
        self._next_ack = 0  # sequence number of the next batch to acknowledge
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        prefix = f"$share/{config.mqtt.share_group}/" if config.mqtt.share_group else ""
        self.session = session_factory(config.mqtt, [prefix + route.topic for route in pipeline.routes])
        self.session.on_connect = self._on_connect
        self.session.on_disconnect = self._on_disconnect
        self.session.on_messages = self._on_messages
        self.session.on_subscribed = self._on_subscribed

    # -- broker side (the session's network thread) ----------------------------

    def _on_connect(self, session_present: bool) -> None:
        self._last_activity = time.monotonic()
        log.info(event("connected", host=self.config.mqtt.host, port=self.config.mqtt.port,
                       session_present=session_present))
        self.connected.set()
        self.metrics.connected.set(1)

    def _on_subscribed(self, failures: list[str]) -> None:
        if failures:
            log.error(event("subscribe_refused", reasons=",".join(failures)))
            self.supervisor.set_ready("broker", False, f"subscription refused: {','.join(failures)}")
        else:
            log.info(event("subscribed", topics=",".join(self.session.filters)))
            self.subscribed.set()
            self.supervisor.set_ready("broker", True)

    def _on_disconnect(self, reason: str) -> None:
        self.connected.clear()
        self.subscribed.clear()
        self.metrics.connected.set(0)
        self.supervisor.set_ready("broker", False, f"disconnected: {reason}")
        if not self._stopping.is_set():
            self.stats.reconnects += 1
            self.metrics.reconnects.inc()
            log.warning(event("disconnected", reason=reason, action="reconnecting"))

    def _on_messages(self, generation: int, messages: list[tuple[int, str, bytes]]) -> None:
        if self._stopping.is_set():
            return  # not acknowledged: the broker redelivers them to the next session
        received_ns = self.clock()
        self._last_activity = time.monotonic()
        encode = self.pipeline.encode
        accepted, rejected, readings = [], [], 0
        for _, topic, payload in messages:
            try:
                encoded = encode(topic, payload, received_ns)
            except Rejected as rejection:
                rejected.append((topic, payload, rejection, received_ns))
                continue
            except Exception as exc:  # a decoder bug must not stop the stream
                log.error(event("decoder_failed", topic=topic, error=type(exc).__name__) + "\n" + safe_traceback(exc))
                # The dead letter keeps the error's text (it may quote the payload, which it holds anyway).
                rejected.append((topic, payload, Rejected("internal", f"decoder error: {exc!r}"), received_ns))
                continue
            if encoded is not None:  # else no readings: nothing to store, acknowledged with the others
                lines, count, time_ns, device, quarantined = encoded
                if quarantined:  # field-level quarantine: one dead letter per invalid value, the rest is stored
                    rejected.extend((topic, payload, value, received_ns) for value in quarantined)
                accepted.append(SpooledMessage(topic, payload, lines, received_ns, time_ns, device))
                readings += count
        self._pending.put(Received(generation, [m[0] for m in messages], accepted, rejected, readings))

    # -- store side (writer threads) ------------------------------------------

    def _writer_loop(self) -> None:
        while True:
            with self._take_lock:
                if self._stopping.is_set() and self._pending.empty():
                    return
                batch = self._take_batch()
                if batch is None:
                    continue
                sequence, self._next_batch = self._next_batch, self._next_batch + 1
                self._writing.add(sequence)
                received = sum(len(r.packet_ids) for r in batch)
                self.stats.received += received
            self.metrics.received.inc(received)
            self.metrics.last_message.set(time.time())
            durable = False
            try:
                durable = self._make_durable(batch)
            except Exception as exc:  # a bug here, not a message: drop the connection, the broker redelivers
                log.error(event("writer_failed", messages=received, error=type(exc).__name__,
                                action="reconnecting for redelivery") + "\n" + safe_traceback(exc))
                self.session.reconnect()
            finally:
                self._acknowledge_in_order(sequence, batch if durable else None)
                self._writing.discard(sequence)
                self._write_done.set()
            if not durable and self._stopping.is_set():
                return

    def _take_batch(self) -> list[Received] | None:
        """The next batch, by group commit with an adaptive linger; None if nothing arrived within 0.1 s.

        Group commit: while another batch is being made durable, this one keeps
        gathering until that write is done. With the store idle it goes out once
        it has lingered `linger_us_per_msg_s` microseconds per message/s of the
        measured arrival rate: at 200 msg/s that is 0.4 ms (one message per write,
        latency about one write), at 5,000 msg/s 10 ms, so that a write carries
        ~50 readings instead of the handful that arrive during one short write
        (many tiny writes cost more CPU per message than they save in waiting).
        It lingers at most `max_linger_s` (20 ms: a burst measures as a very high
        rate), gathers never longer than `max_delay_s` from its first message and
        never more than `max_readings`; a backlog gives full batches without
        waiting. The linger is one sleep, not a wake-up per arriving message.
        """
        try:
            first = self._pending.get(timeout=0.1)
        except queue.Empty:
            return None
        batch, count, messages = [first], first.readings, len(first.packet_ids)
        started = time.monotonic()
        batch_settings = self.config.batch
        linger_until = started + min(batch_settings.max_delay_s, batch_settings.max_linger_s, self._linger_s(started))
        deadline = started + self.config.batch.max_delay_s
        waited = False
        while count < self.config.batch.max_readings:
            try:
                more = self._pending.get_nowait()
            except queue.Empty:
                now = time.monotonic()
                if self._writing and not waited:
                    # Cleared before looking, so a write that ends in between still wakes us.
                    self._write_done.clear()
                    if self._writing:
                        self._write_done.wait(max(0.0, deadline - now))
                    waited = True  # then take what came meanwhile (and linger if still due)
                    continue
                if now >= linger_until:
                    break
                # One sleep, cut short when max_readings should have arrived by then; what came is taken next.
                room = (self.config.batch.max_readings - count) / self._rate if self._rate else linger_until - now
                self._stopping.wait(min(linger_until - now, room))
                linger_until = now  # lingered: take what is there and go
                continue
            batch.append(more)
            count += more.readings
            messages += len(more.packet_ids)
        self._arrived += messages
        return batch

    def _linger_s(self, now: float) -> float:
        """Seconds a batch lingers at the current arrival rate (messages/s, measured over >= RATE_WINDOW_S)."""
        elapsed = now - self._rate_since
        if elapsed >= RATE_WINDOW_S:
            self._rate = self._arrived / elapsed
            self._arrived, self._rate_since = 0, now
        return self._rate * self.config.batch.linger_us_per_msg_s * 1e-6

    def _make_durable(self, batch: list[Received]) -> bool:
        """Dead letters, then store or spool; False when stopped while nothing durable could take the batch."""
        durable = self.delivery.reject([letter for r in batch for letter in r.rejected], self._stopping)
        accepted = [m for r in batch for m in r.accepted]
        if durable:
            try:
                durable = self.delivery.make_durable(accepted, self._stopping)
            except Exception as exc:  # a bug met on some content: keep these messages rather than stall on them
                log.error(event("store_failed", messages=len(accepted), error=type(exc).__name__,
                                action="dead-lettering the batch's accepted messages") + "\n" + safe_traceback(exc))
                why = Rejected("internal", f"{type(exc).__name__} while storing")
                durable = self.delivery.reject([(m.topic, m.payload, why, m.received_ns) for m in accepted],
                                               self._stopping)
        if not durable:
            log.warning(event("stopping_unacknowledged", messages=sum(len(r.packet_ids) for r in batch),
                              action="the broker redelivers them"))
        return durable

    def _acknowledge_in_order(self, sequence: int, batch: list[Received] | None) -> None:
        """Acknowledge `batch` (None: a batch given up, never acknowledged) once every earlier batch is done.

        MQTT wants PUBACKs in the order the PUBLISHes arrived, and batches are
        made durable by several writers at once.
        """
        with self._ack_lock:
            self._finished[sequence] = batch
            while self._next_ack in self._finished:
                done = self._finished.pop(self._next_ack)
                self._next_ack += 1
                if done is not None:
                    generation = self.session.generation
                    self.session.ack(generation, [pid for r in done if r.generation == generation
                                                  for pid in r.packet_ids])

    # -- watchdog ------------------------------------------------------------------

    def _watchdog_loop(self) -> None:
        silence_s = self.config.mqtt.silence_timeout_s
        while not self._stop.wait(min(5.0, silence_s / 4)):
            silent_for = time.monotonic() - self._last_activity
            # Silence is expected while we hold unacknowledged messages (a full spool).
            idle = not self._writing and self._pending.empty()
            if self.connected.is_set() and idle and silent_for > silence_s:
                log.warning(event("watchdog_reconnect", silent_s=round(silent_for),
                                  action="no message while connected; reconnecting"))
                self.metrics.watchdog.inc()
                self._last_activity = time.monotonic()
                self.session.reconnect()

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        """Connect (persistent session); start the network, writer, drainer, watchdog and health threads."""
        depth = self.spool.depth
        if depth[0]:
            log.info(event("spool_replay", spool_messages=depth[0], spool_bytes=depth[1]))
        supervisor = self.supervisor
        supervisor.set_ready("broker", False, "not connected to the broker yet")
        if self.config.metrics.listen:
            host, _, port = self.config.metrics.listen.rpartition(":")
            self._http = health.serve(self.metrics.registry, supervisor, host or "127.0.0.1", int(port))
        self._writers = [supervisor.spawn(f"writer-{n}", self._writer_loop) for n in range(WRITERS)]
        self._threads = [*self._writers,
                         supervisor.spawn("spool-drainer", lambda: self.delivery.drain_forever(self._stop))]
        if self.config.mqtt.silence_timeout_s:
            self._threads.append(supervisor.spawn("watchdog", self._watchdog_loop))
        self.session.start(supervisor)

    def stop(self) -> None:
        """Stop taking messages, make the queued ones durable and acknowledge them, disconnect."""
        self.supervisor.stop()  # no restarts from here on
        self._stopping.set()
        for thread in self._writers:
            thread.join(timeout=60)
        self._stop.set()
        for thread in self._threads[len(self._writers):]:
            thread.join(timeout=60)
        self.session.stop()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
        log.info(event("stopped", received=self.stats.received, stored=self.stats.stored_messages,
                       rejected=sum(self.stats.rejected.values()), spool_messages=len(self.spool)))

    def run_until(self, stop: threading.Event) -> int:
        """Run until `stop` is set (a signal handler, a test) or a component failed the process.

        Returns the exit status: 0, or 1 after a failure (the service manager restarts the collector).
        """
        self.start()
        try:
            while not stop.wait(0.5):
                if not self.supervisor.alive():
                    break
        finally:
            self.stop()
        return 0 if self.supervisor.alive() else 1
