"""The gateway's wiring: bleak scanner -> privacy filter -> windows -> spool -> broker.

`Gateway.on_advertisement` is the bleak detection callback; a live scan and a
replay (`ReplayScanner`) both call it through `BleakScanner`. `run` keeps the
scanner alive (watchdog), closes windows on the clock and publishes the
gateway's heartbeat (`ble_gateway`: adverts/s, matched/s, restarts, spool
depth, uptime), which it also logs. Nothing here logs or keeps anything
about an unmatched device.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Callable

from bleak import BleakScanner
from bleak.args.bluez import OrPattern
from bleak.assigned_numbers import AdvertisementDataType
from bleak.exc import BleakError

from iotorino.core import catalogue
from iotorino.core.errors import PermanentError, Rejected
from ingest.ble_beacons.capture import CapturedAdvert, CaptureWriter
from ingest.ble_beacons.config import BleConfig
from ingest.ble_beacons.const import EDDYSTONE_PATTERN, IBEACON_PATTERN
from ingest.ble_beacons.heartbeat import Heartbeat
from ingest.ble_beacons.publish import Publisher, reading_message
from ingest.ble_beacons.sightings import BeaconFilter, BeaconRegistry
from ingest.ble_beacons.windows import WindowAggregator

log = logging.getLogger(__name__)

# Seconds between clock ticks that close due windows and check the watchdog.
TICK_S = 1.0


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
                 clock: Callable[[], int] = time.time_ns, recorder: CaptureWriter | None = None) -> None:
        self.config = config
        self.filter = BeaconFilter(registry, config.gateway.pair_window_s)
        self.windows = WindowAggregator(config.gateway.id, config.gateway.window_s)
        self.publisher = publisher
        self.clock = clock
        self.recorder = recorder
        self.stats = Stats()
        self.scanning_mode = config.gateway.scanning_mode  # `auto` until a scan has started
        self.heartbeat = Heartbeat(config.gateway.id, config.gateway.stats_interval_s, clock())
        self.last_advert_monotonic = time.monotonic()

    def on_advertisement(self, device, adv) -> None:
        """bleak detection callback: keep the advert only if it comes from a registered beacon."""
        self.stats.adverts += 1
        self.last_advert_monotonic = time.monotonic()
        now = self.clock()
        if not self.heartbeat.started_ns:
            self.heartbeat.started_ns = now  # a replay's clock starts with its first advert
        sighting = self.filter.match(device.address, adv.manufacturer_data, adv.service_data, adv.rssi, now)
        if sighting is None:
            return  # not ours: no trace of it leaves this function
        self.stats.matched += 1
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
        reading = self.heartbeat.reading(now, self.stats, self.publisher.spool.count())
        log.info(" ".join(f"{name}={value}" for name, value in reading.fields.items()))
        self._publish([reading])

    def _publish(self, readings) -> None:
        checked = []
        for reading in readings:
            try:
                checked.append(catalogue.default().validate(reading))
            except Rejected as error:
                self.stats.rejected += 1
                log.warning("dropping a %s reading: %s", reading.measurement, error)
        self.stats.readings += len(checked)
        self.publisher.publish(reading_message(r) for r in checked)


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
              until: asyncio.Event | None = None) -> Stats:
    """Scan until `until` is set (forever if None), restarting the scanner when it falls silent."""
    settings = gateway.config.gateway
    scanner = await _start(make_scanner, gateway, settings.adapter)
    try:
        while until is None or not until.is_set():
            if until is None:
                await asyncio.sleep(TICK_S)
            else:
                try:
                    await asyncio.wait_for(until.wait(), TICK_S)
                except asyncio.TimeoutError:
                    pass
            gateway.close_due()
            if time.monotonic() - gateway.last_advert_monotonic > settings.watchdog_s:
                log.warning("no advertisement for %.0f s: restarting the scanner", settings.watchdog_s)
                gateway.stats.restarts += 1
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
