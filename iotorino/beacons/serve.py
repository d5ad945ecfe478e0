"""`iotorino beacons serve --config FILE`: the health monitor and the HTTP feed in one process."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `iotorino beacons`."""
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    serve = actions.add_parser("serve", help="run the fleet health monitor and the read-only HTTP feed")
    serve.add_argument("--config", required=True, type=Path, help="TOML file, see iotorino/beacons/sample.toml")
    serve.add_argument("--port", type=int, help="HTTP port (overrides api.port)")


def run_beacons_serve(args: argparse.Namespace) -> int:
    """Run until SIGINT/SIGTERM: restore, subscribe to sightings, publish statuses, serve the API."""
    import uvicorn

    from iotorino.core import inventory
    from iotorino.beacons import config
    from iotorino.beacons.api import create_app
    from iotorino.beacons.monitor import Monitor
    from iotorino.core.store.influx_v1 import InfluxV1Client
    from ingest.ble_beacons.publish import Publisher, Spool, paho_client

    settings = config.load(args.config)
    fleet = inventory.default()
    mqtt = settings.mqtt
    publisher = Publisher(mqtt.host, mqtt.port, mqtt.client_id, Spool(settings.spool_path), keepalive_s=mqtt.keepalive_s,
                          client_factory=lambda client_id: mqtt.configure_paho(paho_client(client_id)))
    store = InfluxV1Client(settings.influx) if settings.influx else None
    monitor = Monitor(settings, fleet.beacons, publisher, store=store)
    app = create_app(fleet.beacons, fleet, monitor.statuses, monitor.not_ready, monitor.gateway_statuses)
    port = args.port or settings.api.port
    publisher.start()
    monitor.start()
    try:
        log.info("beacon feed on http://%s:%d (OpenAPI at /openapi.json)", settings.api.host, port)
        uvicorn.Server(uvicorn.Config(app, host=settings.api.host, port=port, log_level="warning")).run()
    finally:
        monitor.stop()
        monitor.evaluate()
        publisher.stop()
        if store is not None:
            store.close()
    return 0
