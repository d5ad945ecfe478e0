"""`iotorino beacons serve --config FILE`: the health monitor and the HTTP feed in one process.

Every long-running thread runs under one `Supervisor`: the monitor's
subscriber loop, restorer and evaluator, the status outbox's sender and
network loop, and the uvicorn server of the feed. A crash is logged once
(frames and exception type only), counted in
`iotorino_thread_restarts_total{thread}` and restarted; a thread that keeps
crashing (or a feed that cannot listen) fails the process, which exits 1 so
its service manager restarts it. The feed answers `/healthz`, `/readyz` and
`/metrics` beside its own routes.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

log = logging.getLogger(__name__)

# A component that crashes this many times in a row (each within a minute of its start) fails the process.
GIVE_UP_AFTER = 5
# The feed server's component name (thread, restarts metric, /readyz).
FEED = "beacon-feed"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `iotorino beacons`."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    serve = actions.add_parser("serve", help="run the fleet health monitor and the read-only HTTP feed")
    serve.add_argument("--config", required=True, type=Path, help="TOML file, see iotorino/beacons/sample.toml")
    serve.add_argument("--port", type=int, help="HTTP port (overrides api.port)")


def run_beacons_serve(args: argparse.Namespace) -> int:
    """Run until SIGINT/SIGTERM (0) or until a component fails the process (1): restore, subscribe to
    sightings, publish statuses, serve the API."""
    import uvicorn

    from iotorino.beacons import config
    from iotorino.beacons.api import create_app
    from iotorino.beacons.metrics import MonitorMetrics
    from iotorino.beacons.monitor import Monitor
    from iotorino.core import inventory
    from iotorino.core.outbox import Outbox
    from iotorino.publisher import Publisher, paho_client
    from iotorino.core.store.influx_v1 import InfluxV1Client
    from iotorino.core.supervisor import Supervisor

    settings = config.load(args.config)
    fleet = inventory.default()
    mqtt = settings.mqtt
    metrics = MonitorMetrics()
    supervisor = Supervisor(f"beacon-monitor {settings.monitor.id}", registry=metrics.registry,
                            give_up_after=GIVE_UP_AFTER)
    publisher = Publisher(mqtt.host, mqtt.port, mqtt.client_id, Outbox(settings.spool_path),
                          keepalive_s=mqtt.keepalive_s, name="status-outbox",
                          client_factory=lambda client_id: mqtt.configure_paho(paho_client(client_id)))
    store = InfluxV1Client(settings.influx) if settings.influx else None
    monitor = Monitor(settings, fleet.beacons, publisher, store=store, metrics=metrics)
    app = create_app(fleet.beacons, fleet, monitor.statuses, monitor.not_ready, monitor.gateway_statuses,
                     supervisor=supervisor, metrics=metrics.registry)
    port = args.port or settings.api.port
    server = uvicorn.Server(uvicorn.Config(app, host=settings.api.host, port=port, log_level="warning"))
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    publisher.start(supervisor)
    monitor.start(supervisor)
    supervisor.spawn(FEED, server.run, forever=True)
    log.info("beacon feed on http://%s:%d (OpenAPI at /openapi.json; /healthz, /readyz, /metrics)",
             settings.api.host, port)
    try:
        while not stop.is_set() and not supervisor.wait(0.2):
            pass
    finally:
        failed = not supervisor.alive()
        supervisor.stop()  # from here a component that ends has ended on purpose
        server.should_exit = True
        monitor.stop()
        if not failed:
            monitor.evaluate()  # the last changes go out with the outbox below
        publisher.stop()
        if store is not None:
            store.close()
        supervisor.join(10)
    if failed:
        log.error("beacon monitor stopped because a component kept failing (see above)")
        return 1
    return 0
