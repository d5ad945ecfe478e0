"""Making a batch of received messages durable: straight into InfluxDB while it is healthy, else the spool.

`Delivery.make_durable(batch)` returns True once every message of the batch is
durable — its readings accepted by the store, committed to the spool, or the
message committed to the dead letters — and only then may the collector
acknowledge the batch to the broker. A drainer thread (`drain_forever`)
writes spooled messages to the store and deletes them once accepted.

Failures: a transient one (connection refused, timeout, 429, 5xx) marks the
store unhealthy, so further batches go to the spool without waiting, and the
drainer retries with exponential backoff (honouring Retry-After) until a
write succeeds. A 400 rejects points for good: the batch is halved until the
offending message is found, which goes to the dead letters (`store_rejected`);
the rest is written. Any other refusal (401, 404: a configuration problem) or
unexpected error of the store client is logged and retried like a transient
one, since the message is not at fault.

No room: when nothing durable can take a batch — the spool reached a bound
or its disk is full while the store is down, or the dead letters' disk is
full — the writer holds the batch unacknowledged (the broker keeps it and
everything after it: no redelivery storm), `iotorino_spool_full` or
`iotorino_deadletters_full` is 1 and one log line marks the start and one
the end of the episode. The writer tries the file again every `probe_s`
seconds and the store directly as well, so it resumes by itself as soon as
either has room. A drainer whose delete fails on a full disk goes on writing
the next rows and retries the deletes every `probe_s` seconds (a row written
twice overwrites its own points).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

from prometheus_client import Gauge

from ingest.mqtt.deadletters import DeadLetterStore
from ingest.mqtt.logfmt import event
from ingest.mqtt.metrics import CollectorMetrics
from ingest.mqtt.spool import Spool, SpooledMessage, entry
from iotorino.core.errors import IotorinoError, Rejected, TransientError
from iotorino.core.store import PointsRejected, Writer

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
FULL_SPOOL_POLL_S = 0.2  # how often a held batch looks for room again (bounds are checked in memory), seconds
PROBE_S = 5.0  # default: how often a full file (or an unreachable store) is tried again, seconds

# Failures of a local SQLite file, not of a message: disk full, I/O error, file locked or unreadable.
# (Content never fails there: see ingest.mqtt.deadletters.)
NO_ROOM = (sqlite3.OperationalError, OSError)


@dataclass
class Stats:
    """Plain counters for in-process callers (tests, the demo); Prometheus has the same and more."""

    received: int = 0
    stored_readings: int = 0
    stored_messages: int = 0
    spooled_messages: int = 0
    rejected: Counter = field(default_factory=Counter)
    reconnects: int = 0
    write_retries: int = 0


class _Stopped(Exception):
    """Stopping while a batch waited for room: it stays unacknowledged, the broker redelivers it."""


class Alarm:
    """A condition on a gauge, logged once when it starts and once when it ends, however often it is met."""

    def __init__(self, gauge: Gauge, started: str, ended: str) -> None:
        self.gauge = gauge
        self.started, self.ended = started, ended  # event names of the two log lines
        self.active = False
        self._since = 0.0
        self._lock = threading.Lock()

    def start(self, **fields: object) -> None:
        """The condition holds: gauge 1; logged (as an error) only if it did not already."""
        with self._lock:
            if self.active:
                return
            self.active, self._since = True, time.monotonic()
        self.gauge.set(1)
        log.error(event(self.started, **fields))

    def end(self, **fields: object) -> None:
        """The condition is over: gauge 0 and one log line, if it held."""
        if not self.active:  # the common case, without the lock
            return
        with self._lock:
            if not self.active:
                return
            self.active = False
            waited = time.monotonic() - self._since
        self.gauge.set(0)
        log.warning(event(self.ended, waited_s=round(waited, 1), **fields))


class Delivery:
    """The store side of the collector: direct writes, spool, drainer, dead letters for refused points."""

    def __init__(self, writer: Writer, spool: Spool, deadletters: DeadLetterStore,
                 metrics: CollectorMetrics, stats: Stats, batch_messages: int,
                 clock: Callable[[], int] = time.time_ns, probe_s: float = PROBE_S) -> None:
        self.writer = writer
        self.spool = spool
        self.deadletters = deadletters
        self.metrics = metrics
        self.stats = stats
        self.batch_messages = batch_messages
        self.clock = clock
        self.probe_s = probe_s
        self.store_healthy = True
        # Called with (True, why) when the first writer starts holding a batch for lack of room and with
        # (False, "") when none does any more: the collector's readiness.
        self.on_hold: Callable[[bool, str], None] = lambda held, why: None
        self.spool_alarm = Alarm(metrics.spool_full, "spool_full", "spool_room_again")
        self.deadletters_alarm = Alarm(metrics.deadletters_full, "deadletters_full", "deadletters_room_again")
        self._spooled = threading.Event()
        self._stats_lock = threading.Lock()
        self._spool_lock = threading.Lock()
        self._spool_retry_at = 0.0  # monotonic time before which a spool whose disk was full is not tried
        self._holding = 0  # writers holding a batch for lack of room
        metrics.record_spool(spool.depth)

    # -- the writer threads' side -------------------------------------------------

    def reject(self, letters: Sequence[tuple[str, bytes, Rejected, int]], stop: threading.Event) -> bool:
        """Commit rejected messages (topic, payload, rejection, received_ns) to the dead letters.

        While their file cannot take them (disk full) this retries every
        `probe_s` seconds; False when `stop` was set meanwhile (nothing committed).
        """
        if not letters:
            return True
        held = False
        try:
            while True:
                try:
                    self.deadletters.add_many(letters)
                    break
                except NO_ROOM as exc:
                    self.deadletters_alarm.start(error=exc, path=self.deadletters.path, retry_s=self.probe_s,
                                                 action="acknowledgements stopped; the broker keeps the messages")
                    if not held:
                        held = self._hold("the dead letters cannot be written (disk full?)")
                    if stop.wait(self.probe_s):
                        return False
        finally:
            if held:
                self._release()
        self.deadletters_alarm.end()
        with self._stats_lock:
            for topic, _, rejection, _ in letters:
                self.stats.rejected[rejection.reason] += 1
                self.metrics.rejected.labels(rejection.reason).inc()
                log.warning(event("rejected", topic=topic, reason=rejection.reason, detail=rejection.describe()))
        return True

    def make_durable(self, messages: Sequence[SpooledMessage], stop: threading.Event) -> bool:
        """Store or spool `messages`; False only when `stop` was set while nothing durable could take them."""
        if not messages:
            return True
        held = False
        probe_at = 0.0  # while held: when the store is tried directly again
        try:
            while True:
                if self.store_healthy or (held and time.monotonic() >= probe_at):
                    probe_at = time.monotonic() + self.probe_s
                    try:
                        self.write(messages, stop)
                        self._healthy()
                        return True
                    except _Stopped:
                        return False
                    except Exception as exc:  # noqa: BLE001 - the store's failure, not the message's
                        self._unhealthy(exc)
                if self._spool(messages):
                    return True
                if not held:
                    held = self._hold("the spool cannot take messages (a bound reached or its disk full) "
                                      "and InfluxDB is unreachable")
                    probe_at = time.monotonic() + self.probe_s
                if stop.wait(FULL_SPOOL_POLL_S):
                    return False
        finally:
            if held:
                self._release()

    def _spool(self, messages: Sequence[SpooledMessage]) -> bool:
        """Commit `messages` to the spool if it takes them; False (alarm on) when a bound is reached or it fails."""
        with self._spool_lock:  # room checked and taken by one writer at a time: the bounds hold
            if time.monotonic() < self._spool_retry_at:
                return False
            if not self.spool.has_room(messages):
                self.spool_alarm.start(cause="bounds", action="acknowledgements stopped; the broker keeps the messages",
                                       spool_messages=self.spool.depth[0], spool_bytes=self.spool.depth[1],
                                       max_messages=self.spool.max_messages, max_bytes=self.spool.max_bytes)
                return False
            try:
                self.spool.add(messages)
            except NO_ROOM as exc:
                self._spool_retry_at = time.monotonic() + self.probe_s
                self.spool_alarm.start(cause="disk", error=exc, path=self.spool.path, retry_s=self.probe_s,
                                       action="acknowledgements stopped; the broker keeps the messages",
                                       spool_messages=self.spool.depth[0], spool_bytes=self.spool.depth[1])
                return False
        self.spool_alarm.end(spool_messages=self.spool.depth[0])
        self._spooled.set()
        self.metrics.spooled.inc(len(messages))
        self.metrics.record_spool(self.spool.depth)
        with self._stats_lock:
            self.stats.spooled_messages += len(messages)
        return True

    def _hold(self, why: str) -> bool:
        with self._stats_lock:
            self._holding += 1
            first = self._holding == 1
        if first:
            self.on_hold(True, "acknowledgements stopped: " + why)
        return True

    def _release(self) -> None:
        with self._stats_lock:
            self._holding -= 1
            last = self._holding == 0
        if last:
            self.on_hold(False, "")

    # -- the drainer thread ---------------------------------------------------------

    def drain_forever(self, stop: threading.Event) -> None:
        """Write spooled messages to the store, oldest first, until `stop`; retries with backoff.

        Rows the store accepted are deleted; when that fails (a full disk) they
        are kept aside, the drainer goes on with the rows after them and retries
        the deletes every `probe_s` seconds.
        """
        backoff = BACKOFF_FIRST_S
        written: list[tuple[int, int]] = []  # (row id, size) stored but not yet deleted
        delete_at = 0.0  # monotonic time of the next try to delete them
        while not stop.is_set():
            if written and time.monotonic() >= delete_at:
                if self._delete(written):
                    written = []
                else:
                    delete_at = time.monotonic() + self.probe_s
            self._spooled.clear()
            batch = self.spool.oldest(self.batch_messages, after=written[-1][0] if written else 0)
            if not batch:
                self._spooled.wait(max(0.05, delete_at - time.monotonic()) if written else 0.5)
                continue
            try:
                self.write(batch, stop)
            except _Stopped:
                return
            except Exception as exc:  # noqa: BLE001 - the store's failure, retried
                self._unhealthy(exc)
                with self._stats_lock:
                    self.stats.write_retries += 1
                wait = getattr(exc, "retry_after_s", None) or backoff
                log.warning(event("spool_drain_retry", in_s=wait, spool_messages=len(self.spool)))
                stop.wait(wait)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            backoff = BACKOFF_FIRST_S
            self._healthy()
            written.extend(entry(m) for m in batch)
            if time.monotonic() >= delete_at:
                if self._delete(written):
                    written = []
                else:
                    delete_at = time.monotonic() + self.probe_s

    def _delete(self, entries: list[tuple[int, int]]) -> bool:
        """Delete stored rows from the spool; False (alarm on, logged once) when its file refuses."""
        try:
            self.spool.delete(entries)
        except NO_ROOM as exc:
            self.spool_alarm.start(cause="disk", error=exc, path=self.spool.path, retry_s=self.probe_s,
                                   action="stored rows stay in the spool until a delete succeeds")
            return False
        self.metrics.record_spool(self.spool.depth)
        self.spool_alarm.end(spool_messages=self.spool.depth[0])
        return True

    # -- both -------------------------------------------------------------------------

    def write(self, messages: Sequence[SpooledMessage], stop: threading.Event) -> None:
        """Write `messages`; a 400 dead-letters only the offending ones. Raises on other failures."""
        started = time.perf_counter()
        body = b"\n".join(m.lines for m in messages)
        try:
            self.writer.write_lines(body)
        except PointsRejected as exc:
            self.metrics.write_errors.labels("rejected").inc()
            if len(messages) == 1:
                m = messages[0]
                if not self.reject([(m.topic, m.payload, Rejected("store_rejected", exc.detail), m.received_ns)],
                                   stop):
                    raise _Stopped() from None
                return
            # Halve to find the bad message; rewriting the good points is an overwrite.
            middle = len(messages) // 2
            self.write(messages[:middle], stop)
            self.write(messages[middle:], stop)
            return
        self.metrics.write_seconds.observe(time.perf_counter() - started)
        readings = body.count(b"\n") + 1  # one line per reading, none ends in a newline
        self.metrics.record_stored(messages, readings)
        with self._stats_lock:
            self.stats.stored_messages += len(messages)
            self.stats.stored_readings += readings

    def _healthy(self) -> None:
        if not self.store_healthy:
            log.info(event("store_available", spool_messages=len(self.spool)))
            self.store_healthy = True
            self.metrics.store_healthy.set(1)

    def _unhealthy(self, exc: Exception) -> None:
        kind = ("transient" if isinstance(exc, TransientError)
                else "refused" if isinstance(exc, IotorinoError) else "error")
        self.metrics.write_errors.labels(kind).inc()
        if self.store_healthy:
            level = logging.WARNING if kind == "transient" else logging.ERROR
            error = str(exc) if kind != "error" else type(exc).__name__
            log.log(level, event("store_unavailable", error=error, action="spooling until a write succeeds"))
        self.store_healthy = False
        self.metrics.store_healthy.set(0)
