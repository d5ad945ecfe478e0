"""Build and run the gateway from a config file: live on BlueZ, or replaying a capture.

`run_collect_ble(args)` is what `iotorino collect ble` calls. Every
long-running thread runs under one `Supervisor`: the scan or replay
(`ble-scanner` / `ble-replay`, the asyncio loop with the watchdog, the
windows and the heartbeat), the outbox's sender and paho's network loop, and
with `--listen` the HTTP server of `/metrics`, `/healthz` and `/readyz`. A
crash is logged once (frames and exception type only), counted in
`iotorino_thread_restarts_total{thread}` and restarted; a thread that keeps
crashing fails the process, which then publishes the windows it holds and
exits 1.

Exit status: 0 after a signal or the end of a replay (malformed capture
lines are skipped and counted, see capture.py); 1 on an error (BlueZ
missing, a supervised thread that kept failing); 2 on a configuration
error; 3 when a replayed capture had lines but none could be read.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import threading
from pathlib import Path

from iotorino.core import health
from iotorino.core.errors import ConfigError
from iotorino.core.outbox import Outbox
from iotorino.publisher import Publisher, paho_client
from iotorino.core.supervisor import Supervisor
from ingest.ble_beacons import collector, config, replay
from ingest.ble_beacons.capture import CaptureWriter, SkippedLine
from ingest.ble_beacons.metrics import GatewayMetrics

log = logging.getLogger(__name__)

# Exit status when a replayed capture had lines but not one readable advert.
EXIT_NOTHING_READ = 3
# A component that crashes this many times in a row (each within a minute of its start) fails the process.
GIVE_UP_AFTER = 5
# Skipped capture lines logged one by one; after that only every 1000th, then a total at the end.
SKIPS_LOGGED = 100
# Seconds to wait for the scan to publish its windows after a signal.
STOP_WAIT_S = 30.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `iotorino collect ble`."""
    parser.add_argument("--config", required=True, type=Path, help="TOML file, see ingest/ble_beacons/sample.toml")
    parser.add_argument("--record", type=Path, metavar="FILE",
                        help="append what the scan keeps (after the privacy filter) to this JSON-lines capture")
    parser.add_argument("--replay", type=Path, metavar="FILE",
                        help="feed this capture through a bleak replay backend instead of scanning the radio")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="replay speed: 1 = as captured, 10 = ten times faster, 0 = as fast as possible")
    parser.add_argument("--listen", metavar="HOST:PORT", default="",
                        help="serve /metrics, /healthz and /readyz here (e.g. 127.0.0.1:9465; port 0: any free port)")


def parse_listen(value: str) -> tuple[str, int]:
    """`host:port` of `--listen`; `ConfigError` naming the option otherwise."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError("--listen", f"{value!r} is not host:port", "e.g. 127.0.0.1:9465")
    return host, int(port)


def run_collect_ble(args: argparse.Namespace) -> int:
    """Run the gateway until SIGINT/SIGTERM, or until the end of a replay; returns the exit status."""
    from iotorino.core import inventory

    settings = config.load(args.config)
    if args.speed < 0:
        raise ConfigError("--speed", f"{args.speed} is negative", "0 (as fast as possible) or a positive factor")
    if args.replay is not None and not args.replay.is_file():
        raise ConfigError("--replay", f"{str(args.replay)!r} is not a file", "a JSON-lines capture")
    listen = parse_listen(args.listen) if args.listen else None
    metrics = GatewayMetrics()
    supervisor = Supervisor(f"ble-gateway {settings.gateway.id}", registry=metrics.registry,
                            give_up_after=GIVE_UP_AFTER)
    mqtt = settings.mqtt
    outbox = Outbox(settings.spool_path)
    metrics.watch_outbox(outbox.count)
    publisher = Publisher(mqtt.host, mqtt.port, mqtt.client_id, outbox, keepalive_s=mqtt.keepalive_s,
                          client_factory=lambda client_id: mqtt.configure_paho(paho_client(client_id)))
    recorder = CaptureWriter(args.record) if args.record else None
    skips = _SkipLog(metrics)
    scan = Scan(settings, inventory.default(), publisher, recorder, metrics, args.replay, args.speed, skips)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: scan.until.set())
    publisher.start(supervisor)  # first: /readyz says the broker link is down until it is up
    server = health.serve(metrics.registry, supervisor, *listen) if listen else None
    if server is not None:
        log.info("metrics and health on http://%s:%d/metrics, /healthz, /readyz", *server.server_address[:2])
    try:
        scan.run_under(supervisor)
    finally:
        left = publisher.stop()
        if recorder is not None:
            recorder.close()
        supervisor.stop()
        if server is not None:
            server.shutdown()
    stats = scan.gateway.stats
    log.info("gateway %s stopped: adverts=%d matched=%d readings=%d restarts=%d skipped_lines=%d spooled=%d",
             settings.gateway.id, stats.adverts, stats.matched, stats.readings, stats.restarts, skips.count, left)
    if scan.fatal is not None:
        raise scan.fatal
    if not supervisor.alive():
        log.error("gateway %s stopped because a component kept failing (see above)", settings.gateway.id)
        return 1
    if scan.reader is not None and scan.reader.read == 0 and scan.reader.skipped:
        log.error("no line of %s could be read (%d skipped)", args.replay.name, scan.reader.skipped)
        return EXIT_NOTHING_READ
    return 0


class _SkipLog:
    """Counts and logs the capture lines a replay skips: line number, field and reason, never the line."""

    def __init__(self, metrics: GatewayMetrics) -> None:
        self.metrics = metrics
        self.count = 0

    def __call__(self, skipped: SkippedLine) -> None:
        self.count += 1
        self.metrics.skipped_lines.labels(reason=skipped.reason).inc()
        if self.count <= SKIPS_LOGGED or self.count % 1000 == 0:
            log.warning("skipping capture line %d (field %s, %s skipped so far): %s", skipped.line, skipped.field,
                        self.count, skipped.description)


class Scan:
    """The gateway's scan (live or replay) as one supervised component; `until` ends it."""

    def __init__(self, settings: config.BleConfig, registry, publisher: Publisher, recorder, metrics: GatewayMetrics,
                 replay_path: Path | None, speed: float, on_skip, backend: type = replay.ReplayScanner) -> None:
        """A live scan (BlueZ) when `replay_path` is None, else a replay through bleak `backend`."""
        self.name = "ble-replay" if replay_path is not None else "ble-scanner"
        self.fatal: collector.BluetoothUnavailable | None = None
        self.finished = threading.Event()
        self.reader = None
        if replay_path is not None:
            self.replay = replay.Replay.from_file(replay_path, speed, on_skip)
            self.reader = self.replay.source
            self.until = self.replay.done
            self.gateway = collector.Gateway(settings, registry, publisher, self.replay.clock, recorder, metrics)
            self._factory = collector.scanner_factory(settings, backend=backend, replay=self.replay)
            self._check = self.replay.raise_error
        else:
            self.replay = None
            self.until = threading.Event()
            self.gateway = collector.Gateway(settings, registry, publisher, recorder=recorder, metrics=metrics)
            self._factory = collector.scanner_factory(settings)
            self._check = None

    def run_under(self, supervisor: Supervisor) -> None:
        """Run under `supervisor` until the scan ends or the process fails; the windows held are published."""
        thread = supervisor.spawn(self.name, lambda: self._run(supervisor))
        while not self.finished.is_set() and supervisor.alive():
            supervisor.wait(0.2)
            if self.until.is_set() and self.replay is None:
                thread.join(STOP_WAIT_S)  # a signal: the scan publishes its windows and ends
                break
        if not self.finished.is_set():
            # The scan failed for good (or hangs): publish what it collected, from here.
            self.gateway.flush()
            self.gateway.beat(final=True)

    def _run(self, supervisor: Supervisor) -> None:
        try:
            asyncio.run(collector.run(self.gateway, self._factory, self.until, self._check))
        except collector.BluetoothUnavailable as error:
            self.fatal = error  # no restart can help: the command says why and exits 1
            supervisor.fail(self.name, "BlueZ or the adapter is unavailable")
            return
        self.finished.set()
