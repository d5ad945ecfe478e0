"""Fleet health rules, one scenario per status, on a two-beacon registry and two gateways."""

from __future__ import annotations

from iotorino.beacons.health import FleetHealth, Thresholds, distance_m
from iotorino.core.reading import Reading
from tests.ble_beacons.fleet import CASTELLO, PORTA_NUOVA, REGISTRY

S = 1_000_000_000
T0 = 1_795_255_200 * S
W = 30 * S
# GW-NEAR stands at Porta Nuova; GW-FAR at Piazza Castello, about 1.2 km away.
GATEWAYS = {"GW-NEAR": (PORTA_NUOVA.lon, PORTA_NUOVA.lat), "GW-FAR": (CASTELLO.lon, CASTELLO.lat)}


def sighting(beacon, gateway, t, **fields):
    values = {"sightings": 30, "rssi_median": -70.0, "addresses": 1} | fields
    return Reading("beacon_sighting", {"beacon": beacon.id, "gateway": gateway}, values, t)


def health():
    return FleetHealth(REGISTRY.beacons, GATEWAYS, Thresholds(), T0)


def statuses(fleet, now):
    fleet.evaluate(now)
    return {b: s.status for b, s in fleet.current().items()}


def test_distance_between_the_two_places():
    assert 1000 < distance_m(GATEWAYS["GW-NEAR"], GATEWAYS["GW-FAR"]) < 1400


def test_healthy_fleet_is_ok_and_unchanged_status_is_not_reported_again():
    fleet = health()
    for k in range(10):
        fleet.observe(sighting(PORTA_NUOVA, "GW-NEAR", T0 + k * W, battery_mv=2950, adv_count=100 + k, uptime_s=10.0 + k))
        fleet.observe(sighting(CASTELLO, "GW-FAR", T0 + k * W))
    assert len(fleet.evaluate(T0 + 10 * W)) == 2
    assert statuses(fleet, T0 + 10 * W) == {"bcn-0001": "ok", "bcn-0002": "ok"}
    assert fleet.evaluate(T0 + 10 * W + S) == []


def test_missing_after_threshold_from_learned_interval():
    fleet = health()
    fleet.observe(sighting(PORTA_NUOVA, "GW-NEAR", T0, sightings=30))  # learned interval 1 s -> 180 s floor
    fleet.observe(sighting(CASTELLO, "GW-FAR", T0 + 20 * W))
    assert statuses(fleet, T0 + W + 180 * S)["bcn-0001"] == "ok"
    assert statuses(fleet, T0 + W + 181 * S)["bcn-0001"] == "missing"
    status = fleet.current()["bcn-0001"]
    assert status.unseen_s == 181.0 and status.flags == {"missing"} and status.code == 5


def test_low_battery_by_level_and_by_trend():
    fleet = health()
    fleet.observe(sighting(PORTA_NUOVA, "GW-NEAR", T0, battery_mv=2540))
    for h in range(12):  # 2900 mV falling 10 mV an hour: 2400 mV in about 2 days
        fleet.observe(sighting(CASTELLO, "GW-FAR", T0 + h * 3600 * S, battery_mv=2900 - 10 * h))
    now = T0 + 11 * 3600 * S + W
    fleet.observe(sighting(PORTA_NUOVA, "GW-NEAR", now - W, battery_mv=2540))
    assert statuses(fleet, now) == {"bcn-0001": "low_battery", "bcn-0002": "low_battery"}
    assert 1.0 < fleet.current()["bcn-0002"].battery_days_left < 2.5


def test_reboot_when_uptime_goes_down_at_one_gateway():
    fleet = health()
    fleet.observe(sighting(PORTA_NUOVA, "GW-NEAR", T0, adv_count=5000, uptime_s=900.0))
    fleet.observe(sighting(PORTA_NUOVA, "GW-NEAR", T0 + W, adv_count=20, uptime_s=3.0))
    assert statuses(fleet, T0 + 2 * W)["bcn-0001"] == "rebooted"
    assert statuses(fleet, T0 + W + 3601 * S)["bcn-0001"] == "missing"


def test_clone_by_addresses_or_near_and_far_at_once_and_moved_when_only_far():
    fleet = health()
    fleet.observe(sighting(PORTA_NUOVA, "GW-NEAR", T0))
    fleet.observe(sighting(PORTA_NUOVA, "GW-FAR", T0))
    fleet.observe(sighting(CASTELLO, "GW-NEAR", T0 + 3 * W))  # Castello now heard only at Porta Nuova
    assert statuses(fleet, T0 + 4 * W) == {"bcn-0001": "suspected_clone", "bcn-0002": "moved"}
    other = health()
    other.observe(sighting(PORTA_NUOVA, "GW-NEAR", T0, addresses=2))
    other.observe(sighting(CASTELLO, "GW-FAR", T0))
    assert statuses(other, T0 + W)["bcn-0001"] == "suspected_clone"


def test_restored_statuses_hold_until_the_evidence_changes():
    before = health()
    before.observe(sighting(PORTA_NUOVA, "GW-NEAR", T0, battery_mv=2540, adv_count=10, uptime_s=1.0))
    before.observe(sighting(PORTA_NUOVA, "GW-NEAR", T0 + W, battery_mv=2540, adv_count=5, uptime_s=0.5))
    before.evaluate(T0 + 200 * S)  # Castello never seen: missing; Porta Nuova rebooted with a low battery
    published = before.current()
    assert {b: s.status for b, s in published.items()} == {"bcn-0001": "rebooted", "bcn-0002": "missing"}
    for with_evidence in (True, False):
        after = FleetHealth(REGISTRY.beacons, GATEWAYS, Thresholds(), T0 + 900 * S)  # restarted much later
        for status in published.values():
            after.restore(status, with_evidence=with_evidence)
        if with_evidence:  # the store's readings, replayed
            after.observe(sighting(PORTA_NUOVA, "GW-NEAR", T0, battery_mv=2540, adv_count=10, uptime_s=1.0))
            after.observe(sighting(PORTA_NUOVA, "GW-NEAR", T0 + W, battery_mv=2540, adv_count=5, uptime_s=0.5))
            after.observe(sighting(PORTA_NUOVA, "GW-NEAR", T0 + 880 * S, battery_mv=2540, adv_count=900, uptime_s=88.0))
        assert after.evaluate(T0 + 900 * S) == [], with_evidence
        assert after.current()["bcn-0002"].since_ns == published["bcn-0002"].since_ns
        after.observe(sighting(CASTELLO, "GW-FAR", T0 + 900 * S))
        assert [s.status for s in after.evaluate(T0 + 901 * S)] == ["ok"]
