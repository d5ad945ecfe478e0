"""A bleak scanner backend that replays a capture: `BleakScanner(backend=ReplayScanner, replay=...)`.

The gateway's detection callback cannot tell a replay from a live scan: each
captured line becomes a `BLEDevice` and an `AdvertisementData` delivered by
bleak's own `call_detection_callbacks`. The replay also drives a clock that
reads the capture's time, so windows and health follow the capture.

A malformed line of the capture is skipped (`capture.CaptureReader`), never
the end of the replay. If delivering an advert raises, the replay stops
where it was and keeps the error (`Replay.error`) for the gateway's
supervisor, which logs, counts and restarts it: the next scanner resumes
after that advert.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from bleak.backends.scanner import AdvertisementData, BaseBleakScanner

from ingest.ble_beacons import capture


@dataclass
class Replay:
    """What to replay and how fast: `speed` 1 is real time, 0 is as fast as possible."""

    adverts: Iterable[capture.CapturedAdvert]
    speed: float = 1.0
    now_ns: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    """Set at the end of the capture, or when delivering an advert raised (see `error`)."""
    error: BaseException | None = None
    """The exception that stopped delivery; `raise_error` hands it over once."""
    source: Iterable[capture.CapturedAdvert] = field(init=False)
    """What `adverts` was given as (a `CaptureReader` keeps its counts of read and skipped lines)."""

    def __post_init__(self) -> None:
        # One iterator for the whole replay: a scanner restarted by the
        # watchdog resumes where the previous one stopped.
        self.source = self.adverts
        self.adverts = iter(self.adverts)

    @classmethod
    def from_file(cls, path: Path, speed: float = 1.0,
                  on_skip: Callable[[capture.SkippedLine], None] | None = None) -> "Replay":
        """A replay of capture file `path`; malformed lines go to `on_skip` (None: they raise)."""
        return cls(capture.CaptureReader(path, on_skip), speed)

    def raise_error(self) -> None:
        """Raise the exception that stopped delivery, if any, once; the next scanner resumes after it."""
        error, self.error = self.error, None
        if error is not None:
            self.done.clear()
            raise error

    def clock(self) -> int:
        """The capture time of the advert being delivered (UTC epoch ns)."""
        return self.now_ns


class ReplayScanner(BaseBleakScanner):
    """Delivers a capture's adverts to the detection callbacks, paced by their times."""

    def __init__(self, detection_callback, service_uuids, scanning_mode="active", *, replay: Replay,
                 **_platform_args: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        self._replay = replay
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Start (or, after a watchdog restart, resume) delivering the capture."""
        self.seen_devices = {}
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Pause delivery; a later `start` resumes where it stopped."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        try:
            await self._deliver_all()
        except Exception as error:  # noqa: BLE001 - handed to the gateway's supervisor (collector.run raises it)
            self._replay.error = error
        self._replay.done.set()

    async def _deliver_all(self) -> None:
        replay = self._replay
        previous = None
        for advert in replay.adverts:
            if previous is not None and replay.speed > 0 and advert.time_ns > previous:
                await asyncio.sleep((advert.time_ns - previous) / 1e9 / replay.speed)
            elif previous is not None and replay.speed <= 0:
                await asyncio.sleep(0)  # let the gateway's other tasks run
            previous = advert.time_ns
            replay.now_ns = max(replay.now_ns, advert.time_ns)
            self._deliver(advert)

    def _deliver(self, advert: capture.CapturedAdvert) -> None:
        data = AdvertisementData(
            local_name=advert.local_name,
            manufacturer_data=dict(advert.manufacturer_data),
            service_data=dict(advert.service_data),
            service_uuids=list(advert.service_uuids),
            tx_power=advert.tx_power,
            rssi=advert.rssi,
            platform_data=(),
        )
        device = self.create_or_update_device(advert.address, advert.address, advert.local_name, None, data)
        if self.is_allowed_uuid(data.service_uuids):
            self.call_detection_callbacks(device, data)
