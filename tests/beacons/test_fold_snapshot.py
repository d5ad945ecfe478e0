"""A restart from the snapshot of the folded hour plus the store's tail leaves `FleetHealth` exactly as the full
read of the hour does, in a real InfluxDB; a missing, stale, unreadable or foreign snapshot means the full read.

The store's history is test_restore_store's (reboots, clones, equal times,
invalid rows). The snapshot is taken by a restore while only the readings
before a first moment are stored, advanced by the running refresh while more
come, then the rest (late windows among them) is written and the monitor
restarts.
"""

from __future__ import annotations

import json
import sqlite3
import zlib

import pytest

from iotorino.beacons.health import FleetHealth, SeriesSummary, Thresholds
from iotorino.beacons.restore import lookback_s, refresh_fold, stored_evidence
from iotorino.beacons.snapshot import BUCKET_S, LATE_S, Fold, FoldSnapshot, advance, bucket_of, fleet_key
from tests.beacons.test_restore_store import NOW, PLACES, replayed_one_by_one, stored_history
from tests.ble_beacons.fleet import REGISTRY

pytestmark = pytest.mark.integration

S = 10**9
SPAN_S = lookback_s(REGISTRY.beacons, Thresholds())
FLEET = fleet_key(REGISTRY.beacons, PLACES)


def restored(client, snapshot) -> tuple[FleetHealth, str, int]:
    """The fleet as Monitor._take_evidence rebuilds it, where its fold came from, and the rows read."""
    fleet = FleetHealth(REGISTRY.beacons, PLACES, Thresholds(), NOW)
    evidence = stored_evidence(client, REGISTRY.beacons, Thresholds(), None, snapshot)
    for beacon, samples in evidence.battery.items():
        fleet.add_battery_history(beacon, samples)
    fleet.observe_summaries(evidence.sightings)
    return fleet, evidence.fold_source, evidence.rows_read


def same_state(fleet: FleetHealth, expected: FleetHealth) -> None:
    assert fleet._tracks == expected._tracks
    for now in (NOW, NOW + 600 * S, NOW + 3 * 3600 * S):
        assert fleet.evaluate(now) == expected.evaluate(now)


@pytest.mark.parametrize("seed", [1, 2])
def test_snapshot_and_tail_rebuild_the_state_of_the_full_read(influx, tmp_path, seed):
    history = stored_history(seed)
    first = NOW - 40 * 60 * S
    influx.write([r for r in history if r.time_ns < first])
    snapshot = FoldSnapshot(tmp_path / "battery.fold.sqlite", "store-a", FLEET)
    _, source, _ = restored(influx, snapshot)
    assert source == "full read: no snapshot"
    fold = stored_evidence(influx, REGISTRY.beacons, Thresholds(), None, snapshot).fold
    snapshot.write(fold)
    second = NOW - 20 * 60 * S
    late = second - 45 * S  # windows of the last 45 s come after the refresh: late, but within LATE_S
    influx.write([r for r in history if first <= r.time_ns < late])
    fold = refresh_fold(influx, snapshot, fold, second, SPAN_S)  # the running monitor's refresh
    assert fold.until_ns == bucket_of(second - LATE_S * S) * BUCKET_S * S and snapshot.read()[0] == fold
    influx.write([r for r in history if r.time_ns >= late])  # after the snapshot, the late windows among them
    expected = replayed_one_by_one(influx)
    from_snapshot, source, rows = restored(influx, snapshot)
    full, _, all_rows = restored(influx, None)
    assert source == "snapshot" and 0 < rows < all_rows / 2
    same_state(from_snapshot, expected)
    same_state(full, expected)
    assert any(t.reboot_ns for t in expected._tracks.values()) and any(t.clone_ns for t in expected._tracks.values())


def test_without_a_usable_snapshot_the_hour_is_read_whole(influx, tmp_path):
    influx.write(stored_history(3))
    expected = replayed_one_by_one(influx)
    good = FoldSnapshot(tmp_path / "good.sqlite", "store-a", FLEET)
    fold = stored_evidence(influx, REGISTRY.beacons, Thresholds(), None, good).fold
    good.write(fold)
    stale = FoldSnapshot(tmp_path / "stale.sqlite", "store-a", FLEET)
    stale.write(Fold(fold.from_ns - 3600 * S, fold.from_ns, ()))
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"not a database at all" * 100)
    cases = {"a snapshot of another database": FoldSnapshot(good.path, "store-b", FLEET),
             "a snapshot of another fleet": FoldSnapshot(good.path, "store-a", fleet_key(["bcn-1"], PLACES)),
             "a stale snapshot (older than the replayed span)": stale,
             "an unreadable snapshot (DatabaseError)": FoldSnapshot(corrupt, "store-a", FLEET),
             "no snapshot": FoldSnapshot(tmp_path / "absent.sqlite", "store-a", FLEET)}
    for why, snapshot in cases.items():
        fleet, source, _ = restored(influx, snapshot)
        assert source == f"full read: {why}"
        same_state(fleet, expected)
    fleet, source, _ = restored(influx, good)
    assert source == "snapshot"
    same_state(fleet, expected)


def test_the_fold_keeps_whole_buckets_of_the_span_and_only_ids_times_and_numbers(tmp_path):
    b = BUCKET_S * S
    at = lambda k, **kw: SeriesSummary("bcn-1", "GW-NEAR", 100 * b + k * b + 7 * S, **kw)  # noqa: E731
    fold = advance(None, [at(0, readings=2), at(1, battery=((101 * b, 2900),), first_counters=(101 * b, 3, 0.5),
                                               last_counters=(101 * b + S, 4, 1.5), readings=2)], 102 * b, 100 * b)
    moved = advance(fold, [at(2, best_sightings=4, readings=1)], 103 * b, 101 * b)
    assert moved == Fold(101 * b, 103 * b, (fold.buckets[1], at(2, best_sightings=4, readings=1)))
    assert moved.within(102 * b, 103 * b) == [at(2, best_sightings=4, readings=1)]
    snapshot = FoldSnapshot(tmp_path / "f.sqlite", "store-a", FLEET)
    snapshot.write(moved)
    assert snapshot.read() == (moved, "snapshot")
    db = sqlite3.connect(tmp_path / "f.sqlite")
    (blob,), = db.execute("SELECT summaries FROM fold").fetchall()

    def leaves(value):
        return [x for v in value for x in leaves(v)] if isinstance(value, list) else [value]
    kept = leaves(json.loads(zlib.decompress(blob)))
    assert {x for x in kept if isinstance(x, str)} == {"bcn-1", "GW-NEAR"}  # ids, times and numbers only
    assert all(x is None or isinstance(x, (int, float, str)) for x in kept)
