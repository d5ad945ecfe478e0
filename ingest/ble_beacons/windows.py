"""Per-window aggregation: the sightings of one beacon at one gateway become one `beacon_sighting` reading.

Windows are aligned to multiples of `window_s` since the epoch, so every
gateway's windows line up; a reading carries its window's start as its time.
RSSI is summarised by the median (single readings scatter by 3.5-6 dB); the
TLM values are the last ones heard in the window.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from iotorino.core.beacon_messages import SIGHTING as MEASUREMENT
from iotorino.core.reading import Reading
from ingest.ble_beacons.sightings import Sighting


@dataclass
class _Window:
    rssi: list[int] = field(default_factory=list)
    power: list[float] = field(default_factory=list)
    addresses: set[str] = field(default_factory=set)
    last_tlm: object = None


class WindowAggregator:
    """Collects sightings and emits one reading per (beacon, window) once the window has ended."""

    def __init__(self, gateway_id: str, window_s: int) -> None:
        self.gateway_id = gateway_id
        self._window_ns = int(window_s * 1e9)
        self._open: dict[tuple[int, str], _Window] = {}

    def add(self, sighting: Sighting) -> None:
        """Count `sighting` in the window its time falls into."""
        start = sighting.time_ns - sighting.time_ns % self._window_ns
        window = self._open.setdefault((start, sighting.beacon_id), _Window())
        window.rssi.append(sighting.rssi_dbm)
        if sighting.power_1m_dbm is not None:
            window.power.append(sighting.power_1m_dbm)
        window.addresses.add(sighting.address)
        if sighting.tlm is not None:
            window.last_tlm = sighting.tlm

    def close_due(self, now_ns: int) -> list[Reading]:
        """Readings of every window that ended at or before `now_ns`; those windows are forgotten."""
        due = sorted(key for key in self._open if key[0] + self._window_ns <= now_ns)
        return [self._reading(key, self._open.pop(key)) for key in due]

    def flush(self) -> list[Reading]:
        """Readings of every open window, ended or not (at shutdown or the end of a replay)."""
        return [self._reading(key, self._open.pop(key)) for key in sorted(self._open)]

    def _reading(self, key: tuple[int, str], window: _Window) -> Reading:
        start, beacon_id = key
        fields: dict[str, float | int] = {
            "sightings": len(window.rssi),
            "rssi_median": float(statistics.median(window.rssi)),
            "addresses": len(window.addresses),
        }
        if window.power:
            fields["measured_power"] = float(statistics.median(window.power))
        tlm = window.last_tlm
        if tlm is not None:
            if tlm.battery_mv is not None:
                fields["battery_mv"] = tlm.battery_mv
            if tlm.temperature_c is not None:
                fields["temperature"] = tlm.temperature_c
            fields["adv_count"] = tlm.adv_count
            fields["uptime_s"] = tlm.uptime_s
        return Reading(MEASUREMENT, {"beacon": beacon_id, "gateway": self.gateway_id}, fields, start)
