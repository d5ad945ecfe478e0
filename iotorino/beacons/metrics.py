"""Operator metrics of the beacon health monitor, served by the feed at /metrics (with /healthz, /readyz).

Counts by measurement and reason only: no beacon or gateway labels beyond
what the registry names, never an address.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class MonitorMetrics:
    """The monitor's counters (names prefixed `iotorino_beacons_`); thread restarts share the registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.readings = Counter("iotorino_beacons_readings", "Sightings and gateway heartbeats taken, by measurement",
                                ["measurement"], registry=r)
        self.rejected = Counter("iotorino_beacons_messages_rejected",
                                "Messages and stored rows skipped because they are not valid readings, by reason",
                                ["reason"], registry=r)
        self.changes = Counter("iotorino_beacons_status_changes", "Beacon status changes published", registry=r)
