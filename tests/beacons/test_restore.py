"""Restoring after a start, the pure parts: status documents, when the retained ones are all in, lookback."""

from __future__ import annotations

import pytest

from iotorino.beacons.health import BeaconStatus, Thresholds
from iotorino.beacons.monitor import status_document
from iotorino.beacons.restore import RetainedStatuses, lookback_s, parse_status
from iotorino.core.errors import Rejected
from tests.ble_beacons.fleet import REGISTRY

S = 1_000_000_000
LOW = BeaconStatus("bcn-0001", "low_battery", frozenset({"low_battery", "rebooted"}), 1_795_255_200_123 * 10**6,
                   1_795_255_100 * S, "GW-01", 2540, 12.5, 70.0)


def document(status: BeaconStatus = LOW) -> bytes:
    import json

    return json.dumps(status_document(status)).encode()


def test_a_status_document_reads_back_as_the_status():
    assert parse_status(document()) == LOW
    never_seen = BeaconStatus("bcn-0002", "missing", frozenset({"missing"}), 1_795_255_200 * S, unseen_s=200.0)
    assert parse_status(document(never_seen)) == never_seen


@pytest.mark.parametrize("payload", [b"not json", b"{}", b'{"beacon": "b", "status": "fine", "flags": []}',
                                     b'{"beacon": "b", "status": "ok", "flags": ["haunted"], "since": null}',
                                     b'{"beacon": "b", "status": "ok", "flags": [], "since": "yesterday"}'])
def test_anything_else_is_rejected_naming_the_payload(payload):
    with pytest.raises(Rejected, match="bad_status.*payload"):
        parse_status(payload)


def test_retained_statuses_are_complete_after_a_quiet_period_or_the_timeout():
    retained = RetainedStatuses(quiet_s=1.0, timeout_s=5.0)
    assert not retained.complete(100.0)  # not even subscribed
    retained.subscribed(100.0)
    retained.add(document(), retained=True, now_s=100.5)
    retained.add(b"garbage", retained=True, now_s=100.9)
    retained.add(document(), retained=False, now_s=101.8)  # live, not from the subscription
    assert not retained.complete(101.8)
    assert retained.complete(101.9)
    assert retained.statuses == {"bcn-0001": LOW} and retained.rejected == 1
    busy = RetainedStatuses(quiet_s=1.0, timeout_s=5.0)
    busy.subscribed(0.0)
    for tenth in range(60):
        busy.add(document(), retained=True, now_s=tenth / 10)
        assert busy.complete(tenth / 10) == (tenth >= 50)


def test_lookback_covers_held_events_and_the_slowest_missing_threshold():
    assert lookback_s(REGISTRY.beacons, Thresholds()) == 3600 + 60
    assert lookback_s(REGISTRY.beacons, Thresholds(missing_min_s=7200.0)) == 7200 + 60
