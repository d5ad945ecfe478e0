"""Folding readings before observing them (`summarize` + `observe_summaries`) keeps exactly the state of observing
them one by one, over random histories of three beacons at three gateways (one near, one far, one unplaced)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iotorino.beacons.health import (BeaconStatus, FleetHealth, SeriesSummary, Thresholds, merge_spans, merge_summaries,
                                     summarize)
from iotorino.core.reading import Reading
from tests.beacons.test_health import GATEWAYS, T0
from tests.ble_beacons.fleet import REGISTRY

S = 1_000_000_000
W = 30 * S
PLACED = dict(GATEWAYS)  # GW-NEAR, GW-FAR; GW-X has no known place
BEACONS = sorted(REGISTRY.beacons) + ["not-registered"]

counters = st.fixed_dictionaries({"adv_count": st.integers(0, 40), "uptime_s": st.sampled_from([0.5, 10.0, 20.0])})
fields = st.tuples(st.fixed_dictionaries({}, optional={
    "sightings": st.integers(1, 60), "addresses": st.integers(1, 3), "battery_mv": st.integers(2300, 3100),
    "adv_count": st.integers(0, 40), "uptime_s": st.just(30.0), "rssi_median": st.just(-70.0)}),
    st.one_of(st.just({}), counters)).map(lambda parts: parts[0] | parts[1])
readings = st.lists(st.builds(
    lambda beacon, gateway, window, offset, values: Reading(
        "beacon_sighting", {"beacon": beacon, "gateway": gateway}, values, T0 + window * W + offset),
    st.sampled_from(BEACONS), st.sampled_from(["GW-NEAR", "GW-FAR", "GW-X"]),
    st.sampled_from([0, 1, 2, 3, 59, 60, 61, 119, 120, 121, 200, 240]),  # windows over three clock hours: many
    st.sampled_from([0, 0, 0, S]), fields), max_size=120)                  # equal times, at hour boundaries
prior_status = st.sampled_from([None, "ok", "rebooted", "moved", "low_battery"])


def fleet_before(status: str | None, with_evidence: bool, history: bool) -> FleetHealth:
    """A fleet as a restore leaves it before the replay: restored statuses, perhaps a battery history."""
    fleet = FleetHealth(REGISTRY.beacons, PLACED, Thresholds(), T0 - 600 * S)
    if status is not None:
        for beacon in sorted(REGISTRY.beacons):
            fleet.restore(BeaconStatus(beacon, status, frozenset() if status == "ok" else {status}, T0 - 900 * S,
                                       T0 + 90 * W, "GW-FAR", 2800, 40.0, 12.0), with_evidence=with_evidence)
    if history:
        for beacon in sorted(REGISTRY.beacons):
            fleet.add_battery_history(beacon, [(T0 - h * 3600 * S, 2900 + h) for h in range(30, 0, -1)])
    return fleet


@settings(max_examples=300, deadline=None)
@given(readings, prior_status, st.booleans(), st.booleans())
def test_folded_readings_leave_the_same_state_as_observing_each(batch, status, with_evidence, history):
    one_by_one = fleet_before(status, with_evidence, history)
    for reading in sorted(batch, key=lambda r: (r.time_ns, r.tags["gateway"])):
        one_by_one.observe(reading)
    folded = fleet_before(status, with_evidence, history)
    folded.observe_summaries(summarize(batch))
    assert folded._tracks == one_by_one._tracks
    for now in (T0 + 241 * W, T0 + 400 * W, T0 + 2000 * W):
        assert folded.evaluate(now) == one_by_one.evaluate(now)


def test_one_summary_per_beacon_and_gateway_with_the_newest_battery_of_each_hour():
    beacon = sorted(REGISTRY.beacons)[0]
    at = lambda t, **f: Reading("beacon_sighting", {"beacon": beacon, "gateway": "GW-NEAR"}, f, t)  # noqa: E731
    hour = 3600 * S
    summary, = summarize([at(T0 + 2 * W, sightings=5, battery_mv=2900, adv_count=50, uptime_s=100.0),
                          at(T0, sightings=9, battery_mv=2950, adv_count=10, uptime_s=20.0, addresses=2),
                          at(T0 + hour, sightings=3, battery_mv=2890, adv_count=2, uptime_s=0.5),
                          at(T0 + hour + W, sightings=4)])
    assert summary == SeriesSummary(beacon, "GW-NEAR", T0 + hour + W, 9, ((T0 + 2 * W, 2900), (T0 + hour, 2890)),
                                    (T0, 10, 20.0), (T0 + hour, 2, 0.5), T0 + hour, T0, 4)


def test_summaries_older_than_the_counters_already_seen_are_refused():
    beacon = sorted(REGISTRY.beacons)[0]
    fleet = FleetHealth(REGISTRY.beacons, PLACED, Thresholds(), T0)
    fleet.observe(Reading("beacon_sighting", {"beacon": beacon, "gateway": "GW-NEAR"},
                          {"sightings": 3, "adv_count": 5, "uptime_s": 1.0}, T0 + W))
    with pytest.raises(ValueError, match="older than its counters"):
        fleet.observe_summaries([SeriesSummary(beacon, "GW-NEAR", T0, 3, (), (T0, 4, 0.5), (T0, 4, 0.5))])


@settings(max_examples=300, deadline=None)
@given(readings, st.lists(st.sampled_from([0, 1, 2, 60, 61, 120, 121, 200, 241]), max_size=4), prior_status)
def test_spans_folded_apart_and_merged_are_the_fold_of_all(batch, cuts, status):
    # The store keeps one point per series and time: so do these histories.
    stored = list({(r.tags["beacon"], r.tags["gateway"], r.time_ns): r for r in batch}.values())
    bounds = [T0 + c * W for c in sorted(set(cuts))]
    spans = [[r for r in stored if lo <= r.time_ns < hi] for lo, hi in zip([0, *bounds], [*bounds, 2 ** 62])]
    merged = merge_spans(s for span in spans for s in summarize(span))
    key = lambda s: (s.beacon, s.gateway)  # noqa: E731
    assert sorted(merged, key=key) == sorted(summarize(stored), key=key)
    whole, parts = fleet_before(status, True, True), fleet_before(status, True, True)
    whole.observe_summaries(summarize(stored))
    parts.observe_summaries(merged)
    assert parts._tracks == whole._tracks


def test_a_later_span_must_be_newer_and_of_the_same_series():
    beacon = sorted(REGISTRY.beacons)[0]
    early = SeriesSummary(beacon, "GW-NEAR", T0 + W, 3)
    with pytest.raises(ValueError, match="not newer"):
        merge_summaries(early, SeriesSummary(beacon, "GW-NEAR", T0, 2))
    with pytest.raises(ValueError, match="two series"):
        merge_summaries(early, SeriesSummary(beacon, "GW-FAR", T0 + 2 * W, 2))
