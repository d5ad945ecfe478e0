"""The gateway heartbeat: when it is due, rates since the previous one, uptime; counts only."""

from __future__ import annotations

from iotorino.core import catalogue
from ingest.ble_beacons.collector import Stats
from ingest.ble_beacons.heartbeat import Heartbeat

S = 1_000_000_000
T0 = 1_795_255_200 * S


def test_first_at_once_then_every_interval_and_at_the_end_if_the_clock_moved():
    beat = Heartbeat("GW-1", 60.0, started_ns=T0)
    assert not beat.due(0)  # a replay's clock before its first advert
    assert beat.due(T0 + S)
    beat.reading(T0 + S, Stats(), 0)
    assert not beat.due(T0 + 60 * S) and beat.due(T0 + 61 * S)
    assert not beat.due(T0 + S, final=True) and beat.due(T0 + 2 * S, final=True)


def test_rates_since_the_previous_heartbeat_restarts_spool_and_uptime():
    beat = Heartbeat("GW-1", 60.0, started_ns=T0)
    first = beat.reading(T0 + 10 * S, Stats(adverts=250, matched=40), 3)
    second = beat.reading(T0 + 70 * S, Stats(adverts=850, matched=100, restarts=1), 0)
    assert first.fields == {"adverts_per_s": 25.0, "matched_per_s": 4.0, "scanner_restarts": 0,
                            "spool_messages": 3, "uptime_s": 10.0}
    assert second.fields == {"adverts_per_s": 10.0, "matched_per_s": 1.0, "scanner_restarts": 1,
                             "spool_messages": 0, "uptime_s": 70.0}
    assert (second.measurement, dict(second.tags), second.time_ns) == ("ble_gateway", {"gateway": "GW-1"}, T0 + 70 * S)
    assert catalogue.default().validate(second) == second
