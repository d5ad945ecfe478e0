"""`iotorino alerts city|school`: an alert service (see iotorino/alerts/service.py).

One HTTP port (`--http-port`, loopback by default) answers `GET /alerts`,
`/metrics`, `/healthz` and `/readyz`. The process runs until SIGINT or SIGTERM
(exit 0), or until a supervised thread fails it (exit 1).
"""

from __future__ import annotations

import argparse
from pathlib import Path
import signal


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `iotorino alerts`."""
    which = parser.add_subparsers(dest="scope", required=True, metavar="{city,school}")
    helps = {"city": "evaluate the street units' thresholds from MQTT; alerts retained on MQTT, listed over HTTP",
             "school": "evaluate the schools' classroom air, energy and heating from MQTT; alerts retained on MQTT, "
                       "listed over HTTP"}
    for scope, port in (("city", 8096), ("school", 8097)):
        sub = which.add_parser(scope, help=helps[scope])
        sub.add_argument("--mqtt-host", default="127.0.0.1")
        sub.add_argument("--mqtt-port", type=int, default=1883)
        sub.add_argument("--config", type=Path, help="a TOML file whose [mqtt] table gives TLS and credentials "
                                                     "(password_env or password_file), as for every MQTT client")
        sub.add_argument("--http-host", default="127.0.0.1",
                         help="address of GET /alerts, /metrics, /healthz, /readyz (default loopback)")
        sub.add_argument("--http-port", type=int, default=port)


def run(args: argparse.Namespace) -> int:
    """Run the service until SIGINT or SIGTERM."""
    from iotorino.core import extras

    extras.require("alerts", "iotorino alerts")
    from iotorino.alerts.service import CityAlertService, SchoolAlertService

    host, port, options = args.mqtt_host, args.mqtt_port, {}
    if args.config is not None:
        from iotorino.core import config

        mqtt = config.mqtt_client(config.read_toml(args.config))
        host, port = mqtt.host, mqtt.port
        options = {"configure": mqtt.configure_paho, "keepalive_s": mqtt.keepalive_s,
                   "client_id": mqtt.client_id or None}
    kind = CityAlertService if args.scope == "city" else SchoolAlertService
    service = kind(host, port, http_host=args.http_host, http_port=args.http_port, **options).start()
    print(f"{args.scope} alerts: MQTT {host}:{port}, http://{args.http_host}:{service.http_port}/alerts "
          "(and /metrics, /healthz, /readyz)", flush=True)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: service.supervisor.stop())
    failed = service.supervisor.wait()
    service.stop()
    return 1 if failed else 0
