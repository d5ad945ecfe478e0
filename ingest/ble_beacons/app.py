"""Build and run the gateway from a config file: live on BlueZ, or replaying a capture.

`run_collect_ble(args)` is what `iotorino collect ble` calls.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from pathlib import Path

from iotorino.core.errors import ConfigError
from ingest.ble_beacons import collector, config, replay
from ingest.ble_beacons.capture import CaptureWriter
from ingest.ble_beacons.publish import Publisher, Spool, paho_client

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `iotorino collect ble`."""
    parser.add_argument("--config", required=True, type=Path, help="TOML file, see ingest/ble_beacons/sample.toml")
    parser.add_argument("--record", type=Path, metavar="FILE",
                        help="append what the scan keeps (after the privacy filter) to this JSON-lines capture")
    parser.add_argument("--replay", type=Path, metavar="FILE",
                        help="feed this capture through a bleak replay backend instead of scanning the radio")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="replay speed: 1 = as captured, 10 = ten times faster, 0 = as fast as possible")


def run_collect_ble(args: argparse.Namespace) -> int:
    """Run the gateway until SIGINT/SIGTERM, or until the end of a replay; returns the exit status."""
    from iotorino.core import inventory

    settings = config.load(args.config)
    if args.speed < 0:
        raise ConfigError("--speed", f"{args.speed} is negative", "0 (as fast as possible) or a positive factor")
    if args.replay is not None and not args.replay.is_file():
        raise ConfigError("--replay", f"{str(args.replay)!r} is not a file", "a JSON-lines capture")
    registry = inventory.default()
    mqtt = settings.mqtt
    publisher = Publisher(mqtt.host, mqtt.port, mqtt.client_id, Spool(settings.spool_path),
                          keepalive_s=mqtt.keepalive_s,
                          client_factory=lambda client_id: mqtt.configure_paho(paho_client(client_id)))
    recorder = CaptureWriter(args.record) if args.record else None
    publisher.start()
    try:
        stats = asyncio.run(_scan(settings, registry, publisher, recorder, args.replay, args.speed))
    finally:
        left = publisher.stop()
        if recorder is not None:
            recorder.close()
    log.info("gateway %s stopped: adverts=%d matched=%d readings=%d restarts=%d spooled=%d",
             settings.gateway.id, stats.adverts, stats.matched, stats.readings, stats.restarts, left)
    return 0


async def _scan(settings, registry, publisher, recorder, replay_path, speed) -> collector.Stats:
    if replay_path is not None:
        the_replay = replay.Replay.from_file(replay_path, speed)
        gateway = collector.Gateway(settings, registry, publisher, the_replay.clock, recorder)
        factory = collector.scanner_factory(settings, backend=replay.ReplayScanner, replay=the_replay)
        return await collector.run(gateway, factory, the_replay.done)
    until = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, until.set)
    gateway = collector.Gateway(settings, registry, publisher, recorder=recorder)
    return await collector.run(gateway, collector.scanner_factory(settings), until)
