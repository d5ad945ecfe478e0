"""Window aggregation: one reading per beacon per aligned window, median RSSI, last TLM."""

from __future__ import annotations

from iotorino.core import catalogue
from ingest.ble_beacons.frames import EddystoneTLM
from ingest.ble_beacons.sightings import Sighting
from ingest.ble_beacons.windows import WindowAggregator

S = 1_000_000_000
T0 = 59_833_334 * 30 * S  # a window start (multiple of 30 s), Nov 2026


def test_windows_close_when_due_with_median_and_last_tlm():
    windows = WindowAggregator("gw-1", 30)
    for offset, rssi in [(1, -70), (2, -90), (3, -72)]:
        windows.add(Sighting("bcn-0002", T0 + offset * S, rssi, -70.0, None, "a"))
    windows.add(Sighting("bcn-0002", T0 + 4 * S, -71, None, EddystoneTLM(2900, -3.5, 10, 100.0), "a"))
    windows.add(Sighting("bcn-0002", T0 + 5 * S, -71, None, EddystoneTLM(2890, -3.25, 12, 102.0), "b"))
    windows.add(Sighting("bcn-0002", T0 + 31 * S, -60, -70.0, None, "a"))
    assert windows.close_due(T0 + 29 * S) == []
    [reading] = windows.close_due(T0 + 30 * S)
    assert reading.time_ns == T0 and reading.tags == {"beacon": "bcn-0002", "gateway": "gw-1"}
    assert reading.fields == {"sightings": 5, "rssi_median": -71.0, "addresses": 2, "measured_power": -70.0,
                              "battery_mv": 2890, "temperature": -3.25, "adv_count": 12, "uptime_s": 102.0}
    catalogue.default().validate(reading)
    [later] = windows.flush()
    assert later.time_ns == T0 + 30 * S and "battery_mv" not in later.fields
