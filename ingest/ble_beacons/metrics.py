"""Operator metrics of the BLE gateway, served with /healthz and /readyz (`iotorino collect ble --listen`).

Aggregate counts only: nothing is labelled by, or counts per, advertiser
address or foreign device. Each gateway has its own registry, so several
gateways in one process (tests) do not share counters.
"""

from __future__ import annotations

from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge


class GatewayMetrics:
    """The gateway's counters and gauges (names prefixed `iotorino_ble_`)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.adverts = Counter("iotorino_ble_adverts", "Advertisements heard, from any device (a total only)",
                               registry=r)
        self.matched = Counter("iotorino_ble_matched_adverts", "Advertisements of registered beacons", registry=r)
        self.readings = Counter("iotorino_ble_readings", "Readings put in the outbox, by measurement",
                                ["measurement"], registry=r)
        self.quarantined = Counter(
            "iotorino_ble_fields_quarantined",
            "Field values left out of a published reading (outside the catalogue's range or type); the rest "
            "of the reading is published", ["measurement", "field", "reason"], registry=r)
        self.rejected = Counter("iotorino_ble_readings_rejected", "Readings with no publishable field, by reason",
                                ["measurement", "reason"], registry=r)
        self.skipped_lines = Counter("iotorino_ble_capture_lines_skipped",
                                     "Malformed capture lines a replay skipped, by reason", ["reason"], registry=r)
        self.advert_errors = Counter("iotorino_ble_advert_errors",
                                     "Advertisements whose handling raised and were skipped, by exception type",
                                     ["error"], registry=r)
        self.scanner_restarts = Counter("iotorino_ble_scanner_restarts",
                                        "Watchdog restarts of a scanner that fell silent", registry=r)
        self.outbox_messages = Gauge("iotorino_ble_outbox_messages",
                                     "Messages in the outbox not yet acknowledged by the broker", registry=r)

    def watch_outbox(self, count: Callable[[], int]) -> None:
        """Read the outbox depth from `count` at every scrape."""
        self.outbox_messages.set_function(count)
