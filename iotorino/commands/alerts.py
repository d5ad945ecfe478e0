"""`iotorino alerts city`: the city alert service (see iotorino/alerts/service.py)."""

from __future__ import annotations

import argparse
import signal
import threading


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `iotorino alerts`."""
    which = parser.add_subparsers(dest="scope", required=True, metavar="{city}")
    city = which.add_parser("city", help="evaluate the street units' thresholds from MQTT; alerts retained on MQTT, "
                                         "listed over HTTP")
    city.add_argument("--mqtt-host", default="127.0.0.1")
    city.add_argument("--mqtt-port", type=int, default=1883)
    city.add_argument("--http-host", default="127.0.0.1", help="address of GET /alerts (default loopback)")
    city.add_argument("--http-port", type=int, default=8096)


def run(args: argparse.Namespace) -> int:
    """Run the service until SIGINT or SIGTERM."""
    from iotorino.core import extras

    extras.require("alerts", "iotorino alerts")
    from iotorino.alerts.service import CityAlertService

    service = CityAlertService(args.mqtt_host, args.mqtt_port, http_host=args.http_host, http_port=args.http_port).start()
    print(f"city alerts: MQTT {args.mqtt_host}:{args.mqtt_port}, http://{args.http_host}:{service.http_port}/alerts",
          flush=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    service.stop()
    return 0
