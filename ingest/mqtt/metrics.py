"""Operator metrics of the MQTT collector, served with /healthz and /readyz on `[metrics] listen`.

Each collector has its own registry, so several collectors in one process
(tests, the scale-out demo) do not share counters. Counters are updated once
per batch, not once per message, to keep the receive path cheap.
"""

from __future__ import annotations

import collections
import threading
import time
from bisect import bisect_left
from functools import partial
from typing import Iterable, Iterator, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import HistogramMetricFamily, Metric

from ingest.mqtt.spool import SpooledMessage

# Seconds. Write latency is a local HTTP call; end-to-end delay spans a backlog drain.
_WRITE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_DELAY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400)


class CollectorMetrics:
    """The collector's counters, gauges and histograms (names prefixed `iotorino_`)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.received = Counter("iotorino_messages_received", "MQTT messages received", registry=r)
        self.stored = Counter("iotorino_messages_stored", "Messages whose readings InfluxDB accepted", registry=r)
        self.readings = Counter("iotorino_readings_stored", "Readings (points) InfluxDB accepted", registry=r)
        self.rejected = Counter("iotorino_messages_rejected", "Messages sent to the dead letters, by reason",
                                ["reason"], registry=r)
        self.spooled = Counter("iotorino_messages_spooled", "Messages committed to the on-disk spool", registry=r)
        self.spool_messages = Gauge("iotorino_spool_messages", "Messages waiting in the spool", registry=r)
        self.spool_bytes = Gauge("iotorino_spool_bytes", "Bytes (payload + line protocol) in the spool", registry=r)
        self.spool_full = Gauge("iotorino_spool_full", "1 while the spool cannot take messages (a bound reached "
                                "or its disk full); acknowledgements stop if InfluxDB is down too", registry=r)
        self.deadletters_full = Gauge("iotorino_deadletters_full", "1 while the dead letters cannot be written "
                                      "(disk full); acknowledgements stop", registry=r)
        self.store_healthy = Gauge("iotorino_store_healthy", "1 while the last write to InfluxDB succeeded",
                                   registry=r)
        self.write_errors = Counter("iotorino_store_write_errors", "Failed writes to InfluxDB, by kind",
                                    ["kind"], registry=r)
        self.write_seconds = Histogram("iotorino_store_write_seconds", "Duration of successful writes to InfluxDB",
                                       buckets=_WRITE_BUCKETS, registry=r)
        self.delay = BatchHistogram("iotorino_end_to_end_delay_seconds", "Device time to stored in InfluxDB",
                                    _DELAY_BUCKETS, r)
        self.connected = Gauge("iotorino_mqtt_connected", "1 while connected to the broker", registry=r)
        self.reconnects = Counter("iotorino_mqtt_reconnects", "Connections lost (each followed by a reconnect)",
                                  registry=r)
        self.watchdog = Counter("iotorino_mqtt_watchdog_reconnects",
                                "Reconnects forced because a connected session was silent", registry=r)
        self.last_message = Gauge("iotorino_last_message_timestamp_seconds", "When the last message arrived",
                                  registry=r)
        self.last_seen = Gauge("iotorino_device_last_seen_timestamp_seconds",
                               "Collector time of the last stored reading, by device", ["device"], registry=r)
        self.store_healthy.set(1)

    def record_stored(self, messages: Sequence[SpooledMessage], readings: int) -> None:
        """Count stored messages, their end-to-end delay and each device's last-seen time."""
        now_ns = time.time_ns()
        self.stored.inc(len(messages))
        self.readings.inc(readings)
        self.delay.observe_ages_ns(now_ns, [message.time_ns for message in messages])
        last: dict[str, int] = {}
        for message in messages:
            last[message.device] = message.received_ns
        for device, received_ns in last.items():
            self.last_seen.labels(device).set(received_ns / 1e9)

    def record_spool(self, depth: tuple[int, int]) -> None:
        """Spool depth (messages, bytes)."""
        self.spool_messages.set(depth[0])
        self.spool_bytes.set(depth[1])


class BatchHistogram:
    """A Prometheus histogram observed a batch at a time: one lock per batch, one bisect per value.

    `prometheus_client.Histogram.observe` takes two locks and walks the
    buckets for every value, which cost the collector more than decoding a
    message's JSON; this exposes the same `_bucket`, `_sum` and `_count` series.
    """

    def __init__(self, name: str, documentation: str, buckets: Sequence[float],
                 registry: CollectorRegistry) -> None:
        self.name = name
        self.documentation = documentation
        self._bounds = [*buckets, float("inf")]
        self._bounds_ns = [round(bound * 1e9) for bound in buckets]  # the last bucket (+Inf) is past them all
        self._counts = [0] * len(self._bounds)
        self._sum = 0.0
        self._lock = threading.Lock()
        registry.register(self)

    def observe_many(self, values: Iterable[float]) -> None:
        """Count each value in the first bucket whose upper bound it does not exceed."""
        bounds, counts, total = self._bounds, [0] * len(self._bounds), 0.0
        for value in values:
            counts[bisect_left(bounds, value)] += 1
            total += value
        with self._lock:
            self._counts = [a + b for a, b in zip(self._counts, counts)]
            self._sum += total

    def observe_ages_ns(self, now_ns: int, times_ns: Sequence[int]) -> None:
        """Observe `now_ns - t` in seconds for each epoch time `t` (ns), a negative age as 0.

        The same as `observe_many` of those ages, in integer nanoseconds: the bucket
        of each age is found by C code (`map`, `Counter`), a drain's batch of 5,000
        costs a fifth of the per-value loop.
        """
        if not times_ns:
            return
        ages = [now_ns - t for t in times_ns]
        found = collections.Counter(map(partial(bisect_left, self._bounds_ns), ages))
        total = sum(ages)
        if min(ages) < 0:  # device clocks ahead of ours: those count as 0
            total -= sum(age for age in ages if age < 0)
        with self._lock:
            for index, count in found.items():
                self._counts[index] += count
            self._sum += total / 1e9

    def collect(self) -> Iterator[Metric]:
        """The cumulative buckets, sum and count (called by the registry)."""
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative, running = [], 0
        for bound, count in zip(self._bounds, counts):
            running += count
            cumulative.append(("+Inf" if bound == float("inf") else repr(float(bound)), running))
        yield HistogramMetricFamily(self.name, self.documentation, buckets=cumulative, sum_value=total)
