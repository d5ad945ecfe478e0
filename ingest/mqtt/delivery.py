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
the rest is written. Any other refusal (401, 404: a configuration problem) is
logged as an error and retried like a transient one, since the message is not
at fault.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Sequence

from ingest.mqtt.deadletters import DeadLetterStore
from ingest.mqtt.logfmt import event
from ingest.mqtt.metrics import CollectorMetrics
from ingest.mqtt.spool import Spool, SpooledMessage
from iotorino.core.errors import PermanentError, Rejected, TransientError
from iotorino.core.store import PointsRejected, Writer

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
FULL_SPOOL_POLL_S = 0.2  # how often a full spool is looked at again, seconds


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


class Delivery:
    """The store side of the collector: direct writes, spool, drainer, dead letters for refused points."""

    def __init__(self, writer: Writer, spool: Spool, deadletters: DeadLetterStore,
                 metrics: CollectorMetrics, stats: Stats, batch_messages: int,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.writer = writer
        self.spool = spool
        self.deadletters = deadletters
        self.metrics = metrics
        self.stats = stats
        self.batch_messages = batch_messages
        self.clock = clock
        self.store_healthy = True
        self._spooled = threading.Event()
        self._stats_lock = threading.Lock()
        self._spool_lock = threading.Lock()
        metrics.record_spool(spool.depth, full=False)

    # -- the writer threads' side -------------------------------------------------

    def reject(self, letters: Sequence[tuple[str, bytes, Rejected, int]]) -> None:
        """Commit rejected messages (topic, payload, rejection, received_ns) to the dead letters."""
        if not letters:
            return
        self.deadletters.add_many(letters)
        with self._stats_lock:
            for topic, _, rejection, _ in letters:
                self.stats.rejected[rejection.reason] += 1
                self.metrics.rejected.labels(rejection.reason).inc()
                log.warning(event("rejected", topic=topic, reason=rejection.reason, detail=rejection.describe()))

    def make_durable(self, messages: Sequence[SpooledMessage], stop: threading.Event) -> bool:
        """Store or spool `messages`; False only when `stop` was set while the spool was full."""
        if not messages:
            return True
        if self.store_healthy:
            try:
                self.write(messages)
                return True
            except (TransientError, PermanentError) as exc:
                self._unhealthy(exc)
        return self._spool(messages, stop)

    def _spool(self, messages: Sequence[SpooledMessage], stop: threading.Event) -> bool:
        with self._spool_lock:  # room checked and taken by one writer at a time: the bounds hold
            return self._spool_when_room(messages, stop)

    def _spool_when_room(self, messages: Sequence[SpooledMessage], stop: threading.Event) -> bool:
        full_since = None
        while not self.spool.has_room(messages):
            if full_since is None:
                full_since = time.monotonic()
                messages_in, bytes_in = self.spool.depth
                log.error(event("spool_full", action="acknowledgements stopped; the broker keeps the messages",
                                spool_messages=messages_in, spool_bytes=bytes_in,
                                max_messages=self.spool.max_messages, max_bytes=self.spool.max_bytes))
                self.metrics.record_spool(self.spool.depth, full=True)
            if stop.wait(FULL_SPOOL_POLL_S):
                return False
        if full_since is not None:
            log.warning(event("spool_room_again", waited_s=round(time.monotonic() - full_since, 1)))
        self.spool.add(messages)
        self._spooled.set()
        self.metrics.spooled.inc(len(messages))
        self.metrics.record_spool(self.spool.depth, full=False)
        with self._stats_lock:
            self.stats.spooled_messages += len(messages)
        return True

    # -- the drainer thread ---------------------------------------------------------

    def drain_forever(self, stop: threading.Event) -> None:
        """Write spooled messages to the store, oldest first, until `stop`; retries with backoff."""
        backoff = BACKOFF_FIRST_S
        while not stop.is_set():
            self._spooled.clear()
            batch = self.spool.oldest(self.batch_messages)
            if not batch:
                self._spooled.wait(0.5)
                continue
            try:
                self.write(batch)
            except (TransientError, PermanentError) as exc:
                self._unhealthy(exc)
                with self._stats_lock:
                    self.stats.write_retries += 1
                wait = getattr(exc, "retry_after_s", None) or backoff
                log.warning(event("spool_drain_retry", in_s=wait, spool_messages=len(self.spool)))
                stop.wait(wait)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            self.spool.remove(batch)
            self.metrics.record_spool(self.spool.depth)
            backoff = BACKOFF_FIRST_S
            if not self.store_healthy:
                log.info(event("store_available", spool_messages=len(self.spool)))
                self.store_healthy = True
                self.metrics.store_healthy.set(1)

    # -- both -------------------------------------------------------------------------

    def write(self, messages: Sequence[SpooledMessage]) -> None:
        """Write `messages`; a 400 dead-letters only the offending ones. Raises on other failures."""
        started = time.perf_counter()
        try:
            self.writer.write_lines(b"\n".join(m.lines for m in messages))
        except PointsRejected as exc:
            self.metrics.write_errors.labels("rejected").inc()
            if len(messages) == 1:
                m = messages[0]
                self.reject([(m.topic, m.payload, Rejected("store_rejected", exc.detail), m.received_ns)])
                return
            # Halve to find the bad message; rewriting the good points is an overwrite.
            middle = len(messages) // 2
            self.write(messages[:middle])
            self.write(messages[middle:])
            return
        self.metrics.write_seconds.observe(time.perf_counter() - started)
        readings = sum(m.lines.count(b"\n") + 1 for m in messages)
        self.metrics.record_stored(messages, readings)
        with self._stats_lock:
            self.stats.stored_messages += len(messages)
            self.stats.stored_readings += readings

    def _unhealthy(self, exc: Exception) -> None:
        kind = "transient" if isinstance(exc, TransientError) else "refused"
        self.metrics.write_errors.labels(kind).inc()
        if self.store_healthy:
            level = logging.WARNING if kind == "transient" else logging.ERROR
            log.log(level, event("store_unavailable", error=str(exc), action="spooling until a write succeeds"))
        self.store_healthy = False
        self.metrics.store_healthy.set(0)
