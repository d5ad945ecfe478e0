"""The collector's metrics: the batch-fed delay histogram exposes what a prometheus_client Histogram would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from ingest.mqtt.metrics import BatchHistogram

BUCKETS = (0.0625, 0.125, 1, 64, 86400)
# On a bound, between bounds, beyond the last one, zero (binary fractions: the sums are exact in any order).
DELAYS = [0, 0.0625, 0.09375, 0.125, 1, 3, 86400, 1e6]


def _exposition(registry: CollectorRegistry) -> list[str]:
    return [line for line in generate_latest(registry).decode().splitlines() if "_created" not in line]


def test_batch_histogram_exposes_the_same_series_as_a_histogram():
    batched, reference = CollectorRegistry(), CollectorRegistry()
    histogram = BatchHistogram("delay_seconds", "Delay", BUCKETS, batched)
    one_by_one = Histogram("delay_seconds", "Delay", buckets=BUCKETS, registry=reference)
    histogram.observe_many(DELAYS[:3])
    histogram.observe_many(DELAYS[3:])
    for delay in DELAYS:
        one_by_one.observe(delay)
    assert _exposition(batched) == _exposition(reference)
    assert 'delay_seconds_bucket{le="0.125"} 4.0' in _exposition(batched)
