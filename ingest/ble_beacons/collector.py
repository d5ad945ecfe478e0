"""The gateway's wiring: bleak scanner -> privacy filter -> windows -> spool -> broker.

`Gateway.on_advertisement` is the bleak detection callback; a live scan and a
replay (`ReplayScanner`) both call it through `BleakScanner`. `run` keeps the
scanner alive (watchdog), closes windows on the clock and publishes the
gateway's heartbeat (`ble_gateway`: adverts/s, matched/s, restarts, spool
depth, uptime), which it also logs. Nothing here logs or keeps anything
about an unmatched device.

A reading with a field outside the catalogue (an odd advertised Tx power
gives a `measured_power` out of range) is published without that field:
the sighting still counts, the field is counted in
`iotorino_ble_fields_quarantined_total` and logged once per beacon and field.
An advertisement whose handling raises is skipped and counted; an exception
escaping `run` goes to the gateway's supervisor, which restarts it with the
open windows kept.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from bleak import BleakScanner
from bleak.args.bluez import OrPattern
from bleak.assigned_numbers import AdvertisementDataType
from bleak.exc import BleakError

from iotorino.core.beacon_messages import checked, reading_message
from iotorino.core.errors import PermanentError, Rejected
from iotorino.publisher import Publisher
from iotorino.core.supervisor import safe_traceback
from ingest.ble_beacons.capture import CapturedAdvert, CaptureWriter
from ingest.ble_beacons.config import BleConfig
from ingest.ble_beacons.const import EDDYSTONE_PATTERN, IBEACON_PATTERN
from ingest.ble_beacons.heartbeat import Heartbeat
from ingest.ble_beacons.metrics import GatewayMetrics
from ingest.ble_beacons.sightings import BeaconFilter, BeaconRegistry
from ingest.ble_beacons.windows import WindowAggregator

log = logging.getLogger(__name__)

# Seconds between clock ticks that close due windows and check the watchdog.
TICK_S = 1.0
# Seconds between looks at the stop event (a threading.Event: a signal handler may set it).
POLL_S = 0.05


class BluetoothUnavailable(PermanentError):
    """BlueZ, the system D-Bus or the Bluetooth adapter is missing: live scanning cannot start."""

    def __init__(self, adapter: str, cause: BaseException) -> None:
        self.adapter = adapter
        super().__init__(
            f"cannot scan for BLE beacons: BlueZ is not reachable or adapter {adapter!r} is missing "
            f"({type(cause).__name__}: {cause}). Live scanning needs the bluez package with bluetoothd "
            f"running on the system D-Bus (with --experimental for passive scanning) and an adapter "
            f"listed by `bluetoothctl list`; without a radio, use --replay FILE."
        )


@dataclass
class Stats:
    """Counters for the gateway's self-health: all adverts, matched adverts, scanner restarts."""

    adverts: int = 0
    matched: int = 0
    readings: int = 0
    rejected: int = 0
    restarts: int = 0


class Gateway:
    """Turns advertisements into published `beacon_sighting` readings."""

    def __init__(self, config: BleConfig, registry: BeaconRegistry, publisher: Publisher,
                 clock: Callable[[], int] = time.time_ns, recorder: CaptureWriter | None = None,
                 metrics: GatewayMetrics | None = None) -> None:
        self.config = config
        self.filter = BeaconFilter(registry, config.gateway.pair_window_s)
        self.windows = WindowAggregator(config.gateway.id, config.gateway.window_s)
        self.publisher = publisher
        self.clock = clock
        self.recorder = recorder
        self.stats = Stats()
        self.metrics = metrics or GatewayMetrics()
        self._logged: set[tuple[str, str, str]] = set()  # (beacon or gateway, field, reason) already logged
        self.scanning_mode = config.gateway.scanning_mode  # `auto` until a scan has started
        self.heartbeat = Heartbeat(config.gateway.id, config.gateway.stats_interval_s, clock())
        self.last_advert_monotonic = time.monotonic()

    def on_advertisement(self, device, adv) -> None:
        """bleak detection callback: keep the advert only if it comes from a registered beacon.

        Never raises: an advert whose handling fails is skipped and counted by
        exception type, logged once per type with frames only (no address)."""
        try:
            self._take(device, adv)
        except Exception as error:  # noqa: BLE001 - one advert must not stop the scan
            kind = type(error).__name__
            self.metrics.advert_errors.labels(error=kind).inc()
            if ("advert", kind, "") not in self._logged:
                self._logged.add(("advert", kind, ""))
                log.error("skipping an advertisement whose handling raised %s (logged once per type)\n%s",
                          kind, safe_traceback(error))

    def _take(self, device, adv) -> None:
        self.stats.adverts += 1
        self.metrics.adverts.inc()
        self.last_advert_monotonic = time.monotonic()
        now = self.clock()
        if not self.heartbeat.started_ns:
            self.heartbeat.started_ns = now  # a replay's clock starts with its first advert
        sighting = self.filter.match(device.address, adv.manufacturer_data, adv.service_data, adv.rssi, now)
        if sighting is None:
            return  # not ours: no trace of it leaves this function
        self.stats.matched += 1
        self.metrics.matched.inc()
        self.windows.add(sighting)
        if self.recorder is not None:
            self.recorder.write(CapturedAdvert(now, device.address, adv.rssi, adv.manufacturer_data,
                                               adv.service_data, tuple(adv.service_uuids), adv.tx_power,
                                               adv.local_name))

    def close_due(self) -> None:
        """Publish the readings of every window that has ended by the clock."""
        self._publish(self.windows.close_due(self.clock()))

    def flush(self) -> None:
        """Publish every open window (at shutdown or the end of a replay)."""
        self._publish(self.windows.flush())

    def beat(self, final: bool = False) -> None:
        """Publish and log the heartbeat if it is due (`final`: at shutdown, if the clock moved on)."""
        now = self.clock()
        if not self.heartbeat.due(now, final):
            return
        reading = self.heartbeat.reading(now, self.stats, self.publisher.outbox.count())
        log.info(" ".join(f"{name}={value}" for name, value in reading.fields.items()))
        self._publish([reading])

    def _publish(self, readings) -> None:
        checked = [valid for valid in map(self._valid_part, readings) if valid is not None]
        self.stats.readings += len(checked)
        for reading in checked:
            self.metrics.readings.labels(measurement=reading.measurement).inc()
        self.publisher.publish(reading_message(r) for r in checked)

    def _valid_part(self, reading):
        """`reading` checked against the catalogue, without the fields it rejects (None if none is left)."""
        valid, left_out = checked(reading)
        if valid is None:
            error = left_out[-1]
            self.stats.rejected += 1
            self.metrics.rejected.labels(measurement=reading.measurement, reason=error.reason).inc()
            log.warning("dropping a %s reading: %s", reading.measurement, error)
            return None
        for error in left_out:
            self._quarantine(reading, error)
        return valid

    def _quarantine(self, reading, error: Rejected) -> None:
        """Count (and log once per device, field and reason) a field value left out of `reading`."""
        self.metrics.quarantined.labels(measurement=reading.measurement, field=error.field,
                                        reason=error.reason).inc()
        device = reading.tags.get("beacon") or reading.tags.get("gateway", "")
        if (device, error.field, error.reason) in self._logged:
            return
        self._logged.add((device, error.field, error.reason))
        log.warning("publishing %s of %s without field %s (logged once per beacon and field): %s",
                    reading.measurement, device, error.field, error)


PATTERNS = [
    OrPattern(0, AdvertisementDataType.MANUFACTURER_SPECIFIC_DATA, IBEACON_PATTERN),
    OrPattern(0, AdvertisementDataType.SERVICE_DATA_UUID16, EDDYSTONE_PATTERN),
]


def scanner_factory(config: BleConfig, backend=None, **backend_args) -> Callable[[Callable, str], BleakScanner]:
    """Builds `BleakScanner`s for the gateway in a mode (passive with or-patterns, or active); any backend."""

    def make(callback: Callable, mode: str) -> BleakScanner:
        bluez: dict = {"adapter": config.gateway.adapter}
        if mode == "passive":
            bluez["or_patterns"] = PATTERNS
        return BleakScanner(callback, scanning_mode=mode, bluez=bluez, backend=backend, **backend_args)

    return make


async def run(gateway: Gateway, make_scanner: Callable[[Callable, str], BleakScanner],
              until: threading.Event | None = None, check: Callable[[], None] | None = None) -> Stats:
    """Scan until `until` is set (forever if None), restarting the scanner when it falls silent.

    `check` is called at every look at `until` and may raise (a replay's
    delivery error): the exception leaves `run` with the open windows kept in
    `gateway`, for a restarted `run` to go on with. On a normal end every
    open window is published, then a last heartbeat.
    """
    settings = gateway.config.gateway
    until = until or threading.Event()
    scanner = await _start(make_scanner, gateway, settings.adapter)
    next_tick = time.monotonic() + TICK_S
    try:
        while True:
            if check is not None:
                check()
            if until.is_set():
                break
            await asyncio.sleep(POLL_S)
            if time.monotonic() < next_tick:
                continue
            next_tick = time.monotonic() + TICK_S
            gateway.close_due()
            if time.monotonic() - gateway.last_advert_monotonic > settings.watchdog_s:
                log.warning("no advertisement for %.0f s: restarting the scanner", settings.watchdog_s)
                gateway.stats.restarts += 1
                gateway.metrics.scanner_restarts.inc()
                await scanner.stop()
                scanner = await _start(make_scanner, gateway, settings.adapter)
            gateway.beat()
    finally:
        await scanner.stop()
    gateway.flush()
    gateway.beat(final=True)
    return gateway.stats


async def _start(make_scanner, gateway: Gateway, adapter: str) -> BleakScanner:
    """Start scanning in the configured mode; `auto` tries passive first and keeps what worked."""
    modes = ["passive", "active"] if gateway.scanning_mode == "auto" else [gateway.scanning_mode]
    for mode in modes:
        scanner = make_scanner(gateway.on_advertisement, mode)
        try:
            await scanner.start()
        except (BleakError, OSError, EOFError) as error:
            if mode != modes[-1]:
                log.warning("passive scanning is not available (%s): scanning actively", error)
                continue
            raise BluetoothUnavailable(adapter, error) from error
        gateway.scanning_mode = mode
        gateway.last_advert_monotonic = time.monotonic()
        return scanner
    raise AssertionError("unreachable: the last mode either started or raised")
