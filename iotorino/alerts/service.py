"""The city alert service: street readings from MQTT in, alerts retained on MQTT and listed over HTTP.

A separate process, so evaluating never slows the collector: it subscribes to
the street units' `air_quality` and `noise` topics (native contract,
schemas/mqtt-contract.md) with its own client, feeds `CityAlerts`, and
publishes every alert update (opened, ended) with QoS 1, retained, on
`iotorino/alerts/city/{unit}/{kind}` (contract: `iotorino.core.alerts`). A
ticker closes hours and episodes when no later reading comes.

HTTP (loopback by default): `GET /alerts` lists every episode seen since start,
newest first (`?active=1`: only those going on); `GET /healthz`.

A message it cannot read is counted by reason and logged once per reason; the
collector, which receives the same message, keeps it in its dead letters for
replay, so nothing is lost here.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Mapping

from iotorino.alerts.city import SCOPE, CityAlerts, IntervalOf
from iotorino.core import alerts as contract
from iotorino.core.contract import parse as parse_topic
from iotorino.core.errors import Rejected, TransientError
from iotorino.core.times import parse_time

log = logging.getLogger(__name__)
TOPICS = ("iotorino/v1/street/+/air_quality", "iotorino/v1/street/+/noise")
QOS = 1


def inventory_intervals() -> IntervalOf:
    """(unit, measurement) → reporting interval from the project's inventory (None if unknown)."""
    from iotorino.core import inventory as fleet

    inventory = fleet.default()
    lookups = {m: fleet.reporting_intervals(inventory, "street", m) for m in ("air_quality", "noise")}
    return lambda unit, measurement: lookups[measurement]({"unit": unit})


def read_message(topic: str, payload: bytes, now_ns: int) -> tuple[str, str, int, dict[str, float]]:
    """(unit, measurement, time ns, fields) of a native street message; `Rejected` naming what is wrong."""
    address = parse_topic(topic)
    if address.site != "street" or address.measurement not in ("air_quality", "noise"):
        raise Rejected("unknown_topic", "not a street air_quality or noise topic", field="topic", value=topic,
                       accepted="iotorino/v1/street/{unit}/air_quality|noise")
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise Rejected("bad_json", "payload is not JSON", field="payload", value=payload[:80]) from None
    if not isinstance(body, dict) or not isinstance(body.get("fields"), dict):
        raise Rejected("bad_payload", "payload needs a fields object", field="fields", value=body,
                       accepted='{"time": ..., "fields": {...}}')
    when = parse_time(body["time"]) if "time" in body else now_ns
    return address.site_id, address.measurement, when, body["fields"]


class CityAlertService:
    """The running service: `start()`, `stop()`; `alerts()` lists what it has published."""

    def __init__(self, mqtt_host: str, mqtt_port: int, *, http_host: str = "127.0.0.1", http_port: int = 0,
                 interval_of: IntervalOf | None = None, evaluator: CityAlerts | None = None,
                 clock: Callable[[], int] = time.time_ns, tick_s: float = 30.0, client_id: str | None = None) -> None:
        import paho.mqtt.client as mqtt

        self.evaluator = evaluator or CityAlerts(interval_of or inventory_intervals())
        self.clock, self.tick_s = clock, tick_s
        self.mqtt_host, self.mqtt_port = mqtt_host, mqtt_port
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"iotorino-city-alerts-{uuid.uuid4().hex[:8]}")
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.rejected: Counter[str] = Counter()
        self.messages = 0
        self.subscribed = threading.Event()
        self._alerts: dict[str, contract.Alert] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._http = ThreadingHTTPServer((http_host, http_port), _handler(self))
        self._threads: list[threading.Thread] = []

    @property
    def http_port(self) -> int:
        """The HTTP port actually bound (useful with port 0)."""
        return self._http.server_address[1]

    def start(self) -> "CityAlertService":
        """Connect, subscribe, and start the HTTP server and the ticker."""
        try:
            self.client.connect(self.mqtt_host, self.mqtt_port, keepalive=30)
        except OSError as exc:
            raise TransientError(f"cannot connect to the MQTT broker at {self.mqtt_host}:{self.mqtt_port}: {exc}") from exc
        self.client.loop_start()
        for target in (self._http.serve_forever, self._tick):
            thread = threading.Thread(target=target, daemon=True, name=f"city-alerts-{target.__name__}")
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop ticking, serving and the MQTT loop."""
        self._stop.set()
        self._http.shutdown()
        self._http.server_close()
        self.client.loop_stop()
        self.client.disconnect()

    def alerts(self, active_only: bool = False) -> list[dict]:
        """Every episode seen since start (newest first), as the contract's JSON objects."""
        with self._lock:
            chosen = [a for a in self._alerts.values() if a.active or not active_only]
        return [a.to_dict() for a in sorted(chosen, key=lambda a: a.start_ns, reverse=True)]

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("MQTT broker refused the connection: %s", reason_code)
            return
        client.subscribe([(t, QOS) for t in TOPICS])
        self.subscribed.set()

    def _on_message(self, client, userdata, message) -> None:
        try:
            unit, measurement, when, fields = read_message(message.topic, message.payload, self.clock())
        except Rejected as exc:
            if not self.rejected[exc.reason]:
                log.warning("city alerts: message skipped: %s", exc.describe())
            self.rejected[exc.reason] += 1
            return
        self.messages += 1
        with self._lock:
            updates = self.evaluator.feed(unit, measurement, when, fields)
        self._publish(updates)

    def _tick(self) -> None:
        while not self._stop.wait(self.tick_s):
            with self._lock:
                updates = self.evaluator.advance(self.clock())
            self._publish(updates)

    def _publish(self, updates: list[contract.Alert]) -> None:
        for alert in updates:
            with self._lock:
                self._alerts[alert.id] = alert
            self.client.publish(contract.topic(SCOPE, alert), alert.to_json(), qos=QOS, retain=True)
            log.info("alert %s %s", alert.id, "opened" if alert.active else "ended")


def _handler(service: CityAlertService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path, _, query = self.path.partition("?")
            if path == "/alerts":
                active = "active=1" in query.split("&")
                self._send(200, {"alerts": service.alerts(active_only=active)})
            elif path == "/healthz":
                self._send(200, {"alive": True, "messages": service.messages, "rejected": dict(service.rejected)})
            else:
                self._send(404, {"error": "not found", "paths": ["/alerts", "/alerts?active=1", "/healthz"]})

        def _send(self, code: int, body: Mapping) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler
