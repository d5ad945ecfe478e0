"""The restore from a real InfluxDB leaves `FleetHealth` exactly as replaying every stored reading one by one did.

The store holds three days of battery voltages and the last two hours of
windows of two registered beacons and one stranger at three gateways, with
reboots, clones, equal times, rows missing fields and invalid rows. The
reference is the restore as it was: the hourly `last()` of every stored
battery voltage, then every stored sighting of the span read back (JSON),
checked by the catalogue and observed in time order. The restore under test
folds the span on columns and reads the battery history from the monitor's
file where it covers it: without a file, with one covering everything, and
with one that misses the last hours.
"""

from __future__ import annotations

import random

import pytest

from iotorino.beacons.battery import BatteryHistory
from iotorino.beacons.health import BATTERY_HISTORY_H, HOUR_NS, FleetHealth, Thresholds
from iotorino.beacons.restore import (BATTERY_CHUNK_H, battery_hours, lookback_s, refresh_battery_history,
                                      stored_evidence)
from iotorino.core import catalogue
from iotorino.core.errors import Rejected
from iotorino.core.reading import Reading
from tests.beacons.test_health import GATEWAYS
from tests.ble_beacons.fleet import REGISTRY

pytestmark = pytest.mark.integration

S = 10**9
W = 30 * S
NOW = 1_795_255_200 * S + 17 * 60 * S  # 17 minutes past an hour
PLACES = dict(GATEWAYS)  # GW-NEAR and GW-FAR placed, GW-X not
BEACONS = sorted(REGISTRY.beacons) + ["bcn-stranger"]


def stored_history(seed: int) -> list[Reading]:
    """Three days of battery readings, then two hours of windows with every kind of evidence."""
    rng = random.Random(seed)
    readings = []
    for beacon in BEACONS:
        for h in range(72, 2, -1):  # battery only: a few readings an hour from any gateway
            for _ in range(rng.randint(0, 3)):
                t = NOW - h * HOUR_NS + rng.randrange(0, 3600) * S
                readings.append(Reading("beacon_sighting", {"beacon": beacon, "gateway": rng.choice(list(PLACES) + ["GW-X"])},
                                        {"sightings": 3, "battery_mv": 3000 - h - rng.randint(0, 30)}, t))
        for gateway in ("GW-NEAR", "GW-FAR", "GW-X"):
            adv, uptime = 1000, 5000.0
            for k in range(240):
                if rng.random() < 0.3:
                    continue
                adv, uptime = (3, 0.5) if rng.random() < 0.03 else (adv + 30, uptime + 30)
                fields = {"sightings": rng.randint(1, 40), "rssi_median": -70.0, "measured_power": -59.0,
                          "addresses": 2 if rng.random() < 0.02 else 1, "battery_mv": 2950 - k // 60,
                          "temperature": 12.5, "adv_count": adv, "uptime_s": uptime}
                for name in ("battery_mv", "adv_count", "uptime_s", "addresses"):
                    if rng.random() < 0.2:
                        del fields[name]
                if rng.random() < 0.02:
                    fields["sightings"] = 0  # out of the catalogue's range: the row is skipped
                readings.append(Reading("beacon_sighting", {"beacon": beacon, "gateway": gateway}, fields,
                                        NOW - 5 * 60 * S - (240 - k) * W))
    readings.append(Reading("beacon_sighting", {"beacon": BEACONS[0]}, {"sightings": 9}, NOW - 9 * 60 * S))  # no gateway
    readings += [Reading("ble_gateway", {"gateway": g}, {"adverts_per_s": 50.0, "uptime_s": 9000.0}, NOW - 60 * S)
                 for g in ("GW-NEAR", "GW-FAR", "GW-X")]
    return readings


def replayed_one_by_one(client) -> FleetHealth:
    """The fleet as the restore used to rebuild it: every stored reading, one at a time."""
    fleet = FleetHealth(REGISTRY.beacons, PLACES, Thresholds(), NOW)
    end = client.query('SELECT last("sightings") FROM "beacon_sighting"')[0]["values"][0][0] + 1
    start = end - round(lookback_s(REGISTRY.beacons, Thresholds()) * S)
    mv_field = catalogue.default().measurement("beacon_sighting").fields["battery_mv"]
    chunk = start - BATTERY_HISTORY_H * HOUR_NS
    while chunk < start:
        for series in client.query(f'SELECT last("battery_mv") AS "mv" FROM "beacon_sighting" WHERE time >= {chunk} '
                                   f'AND time < {min(start, chunk + BATTERY_CHUNK_H * HOUR_NS)} GROUP BY time(1h), '
                                   '"beacon" fill(none)'):
            for t, mv in series["values"]:
                try:
                    catalogue.check_value(mv_field, mv)
                except Rejected:
                    continue
                fleet.add_battery_sample(series["tags"]["beacon"], t, int(mv))
        chunk += BATTERY_CHUNK_H * HOUR_NS
    readings = []
    for series in client.query(f'SELECT * FROM "beacon_sighting" WHERE time >= {start} AND time < {end} '
                               'GROUP BY "beacon", "gateway"'):
        if not series["tags"].get("gateway") or not series["tags"].get("beacon"):
            continue
        names = series["columns"][1:]
        for t, *values in series["values"]:
            fields = {n: v for n, v in zip(names, values) if v is not None}
            try:
                readings.append(catalogue.default().validate(Reading("beacon_sighting", series["tags"], fields, t)))
            except Rejected:
                continue
    for reading in sorted(readings, key=lambda r: r.time_ns):
        fleet.observe(reading)
    return fleet


def restored(client, history) -> FleetHealth:
    """The fleet as the monitor now rebuilds it (Monitor._take_evidence)."""
    fleet = FleetHealth(REGISTRY.beacons, PLACES, Thresholds(), NOW)
    evidence = stored_evidence(client, REGISTRY.beacons, Thresholds(), history)
    for beacon, samples in evidence.battery.items():
        fleet.add_battery_history(beacon, samples)
    fleet.observe_summaries(evidence.sightings)
    assert evidence.skipped > 0 and {r.tags["gateway"] for r in evidence.heartbeats} == {"GW-NEAR", "GW-FAR", "GW-X"}
    return fleet


@pytest.mark.parametrize("seed", [1, 2])
def test_restore_rebuilds_the_state_of_replaying_every_reading(influx, tmp_path, seed):
    influx.write(stored_history(seed))
    expected = replayed_one_by_one(influx)
    history = BatteryHistory(tmp_path / "battery.sqlite", "store-a")
    cold = restored(influx, history)  # no file yet: every hour from the store, then recorded
    assert history.covered_until_ns() == (NOW - 5 * 60 * S - 3660 * S) // HOUR_NS * HOUR_NS
    warm = restored(influx, history)  # every whole hour from the file
    gap = BatteryHistory(tmp_path / "gap.sqlite", "store-a")  # the monitor was down for the last five hours
    until = history.covered_until_ns() - 5 * HOUR_NS
    gap.record(battery_hours(influx, until - 80 * HOUR_NS, until)[0], until)
    missed = restored(influx, gap)
    for fleet in (cold, warm, missed, restored(influx, None)):
        assert fleet._tracks == expected._tracks
        for now in (NOW, NOW + 600 * S, NOW + 3 * HOUR_NS):
            assert fleet.evaluate(now) == expected.evaluate(now)
    tracks = expected._tracks.values()  # the history has evidence of every kind
    assert all(t.reboot_ns and t.battery and t.counters and t.near_ns and t.far_ns for t in tracks)
    assert any(t.clone_ns for t in tracks)


def test_the_file_follows_closed_hours_and_forgets_another_store(influx, tmp_path):
    influx.write(stored_history(3))
    history = BatteryHistory(tmp_path / "battery.sqlite", "store-a")
    assert refresh_battery_history(influx, history, NOW) == 0  # covers nothing: the restore fills it first
    history.record([], NOW // HOUR_NS * HOUR_NS - 10 * HOUR_NS)
    assert refresh_battery_history(influx, history, NOW) == 11  # ten closed hours and the one before them again
    assert history.covered_until_ns() == NOW // HOUR_NS * HOUR_NS
    start, end = NOW // HOUR_NS * HOUR_NS - 11 * HOUR_NS, NOW // HOUR_NS * HOUR_NS
    expected: dict[str, list] = {}
    for beacon, t, mv in sorted(battery_hours(influx, start, end)[0], key=lambda s: (s[0], s[1])):
        expected.setdefault(beacon, []).append((t, mv))
    assert history.read(start, end) == expected and expected
    history.close()
    other = BatteryHistory(tmp_path / "battery.sqlite", "store-b")
    assert other.covered_until_ns() is None and other.read(0, NOW) == {}
