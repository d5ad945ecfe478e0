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


def test_ages_in_nanoseconds_are_observed_as_the_same_delays_in_seconds():
    batched, reference = CollectorRegistry(), CollectorRegistry()
    histogram = BatchHistogram("delay_seconds", "Delay", BUCKETS, batched)
    one_by_one = Histogram("delay_seconds", "Delay", buckets=BUCKETS, registry=reference)
    now_ns = 1_794_995_200_000_000_000
    times_ns = [now_ns - round(delay * 1e9) for delay in DELAYS] + [now_ns + 5_000_000_000]  # last: 5 s ahead
    histogram.observe_ages_ns(now_ns, times_ns[:4])
    histogram.observe_ages_ns(now_ns, times_ns[4:])
    histogram.observe_ages_ns(now_ns, [])
    for delay in [*DELAYS, 0]:  # a device clock ahead of ours counts as no delay
        one_by_one.observe(delay)
    assert _exposition(batched) == _exposition(reference)
