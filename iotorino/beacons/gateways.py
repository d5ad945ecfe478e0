"""The BLE gateways' own health from their `ble_gateway` heartbeats: ok, or silent after `gateway_silent_s`.

A silent gateway marks nothing else: a beacon is missing only when no gateway
has heard it for its missing threshold (health.py), so a beacon that another
gateway still hears stays as it is. Pure; time is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from iotorino.core.reading import Reading

S = 1_000_000_000


@dataclass(frozen=True)
class GatewayStatus:
    """A gateway's health at one moment: its place if configured, its latest heartbeat, ok or silent."""

    id: str
    place: tuple[float, float] | None  # (lon, lat), WGS84 degrees
    last_heartbeat_ns: int | None
    heartbeat: Mapping[str, float | int]  # the latest heartbeat's fields (rates, restarts, spool, uptime)
    status: str  # ok | silent


class GatewayWatch:
    """Keeps each gateway's newest heartbeat; the configured gateways are known before they report."""

    def __init__(self, places: Mapping[str, tuple[float, float]], silent_s: float) -> None:
        self.places = places
        self.silent_ns = round(silent_s * S)
        self._latest: dict[str, Reading] = {}

    def observe(self, reading: Reading) -> None:
        """Take one `ble_gateway` reading (an older one than the gateway's latest changes nothing)."""
        gateway = reading.tags["gateway"]
        before = self._latest.get(gateway)
        if before is None or reading.time_ns > before.time_ns:
            self._latest[gateway] = reading

    def newest_ns(self) -> int | None:
        """The time of the newest heartbeat of any gateway (None before the first)."""
        return max((r.time_ns for r in self._latest.values()), default=None)

    def report(self, now_ns: int) -> list[GatewayStatus]:
        """Every configured or heard gateway at `now_ns`, by id: silent when no heartbeat came for `silent_s`."""
        report = []
        for gateway in sorted(set(self.places) | set(self._latest)):
            latest = self._latest.get(gateway)
            heard_ns = latest.time_ns if latest else None
            ok = heard_ns is not None and now_ns - heard_ns <= self.silent_ns
            report.append(GatewayStatus(gateway, self.places.get(gateway), heard_ns,
                                        dict(latest.fields) if latest else {}, "ok" if ok else "silent"))
        return report
