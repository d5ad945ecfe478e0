"""The alert services: readings from MQTT in, alerts retained on MQTT and listed over HTTP.

One `AlertService` per scope, each a separate process so evaluating never
slows the collector. The city scope subscribes to the street units'
`air_quality` and `noise` topics and feeds `CityAlerts`; the school scope
subscribes to the schools' rooms, meters and outdoor stations and feeds
`SchoolAlerts`. Payloads are read by the native contract
(`iotorino.core.contract.decode`). Every alert update (opened, ended) is
published with QoS 1, retained, on `iotorino/alerts/{scope}/{site}/{kind}`
(contract: `iotorino.core.alerts`). A ticker closes hours, days and
episodes when no later reading comes. The MQTT client takes the shared
`[mqtt]` settings (TLS, user, password from a file or the environment).

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
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Mapping

from iotorino.alerts.city import SCOPE, CityAlerts, IntervalOf
from iotorino.core import alerts as contract
from iotorino.core.contract import TopicAddress, decode, topic_filter
from iotorino.core.contract import parse as parse_topic
from iotorino.core.errors import Rejected, TransientError

log = logging.getLogger(__name__)
TOPICS = ("iotorino/v1/street/+/air_quality", "iotorino/v1/street/+/noise")
QOS = 1


def inventory_intervals() -> IntervalOf:
    """(unit, measurement) → reporting interval from the project's inventory (None if unknown)."""
    from iotorino.core import inventory as fleet

    inventory = fleet.default()
    lookups = {m: fleet.reporting_intervals(inventory, "street", m) for m in ("air_quality", "noise")}
    return lambda unit, measurement: lookups[measurement]({"unit": unit})


def read_message(topic: str, payload: bytes, now_ns: int, sites: tuple[str, ...] = ("street",),
                 measurements: tuple[str, ...] = ("air_quality", "noise")) -> tuple[TopicAddress, int, dict]:
    """(address, time ns, fields) of a native message of one of `sites` and `measurements`; `Rejected` naming what
    is wrong (the payload read by the native contract; no time: `now_ns`)."""
    address = parse_topic(topic)
    if address.site not in sites or address.measurement not in measurements:
        raise Rejected("unknown_topic", "not a topic this alert service reads", field="topic", value=topic,
                       accepted=f"sites {', '.join(sites)}; measurements {', '.join(measurements)}")
    message = decode(payload)
    return address, message.time_ns if message.time_ns is not None else now_ns, dict(message.fields)


@dataclass(frozen=True)
class Scope:
    """What one alert service evaluates: its name, topics, sites and measurements, and the evaluator's calls."""

    name: str
    topics: tuple[str, ...]
    sites: tuple[str, ...]
    measurements: tuple[str, ...]
    feed: Callable[[TopicAddress, int, dict], list]
    advance: Callable[[int], list]


def city_scope(evaluator: CityAlerts) -> Scope:
    """The city's street-unit thresholds (`iotorino.alerts.city`)."""
    return Scope(SCOPE, TOPICS, ("street",), ("air_quality", "noise"),
                 lambda a, when, fields: evaluator.feed(a.site_id, a.measurement, when, fields), evaluator.advance)


def school_scope(evaluator) -> Scope:
    """The schools' classroom air, energy and heating rules (`iotorino.alerts.school`)."""
    from iotorino.core.sites import OUTDOOR

    measurements = ("indoor_climate", "energy", "heat", "outdoor_climate")

    def feed(address: TopicAddress, when: int, fields: dict) -> list:
        point = address.point
        tags = {"school": address.site_id}
        if address.measurement == "indoor_climate":
            tags["room"] = point
        elif point != OUTDOOR:
            tags["meter"] = point
        return evaluator.feed(address.measurement, tags, when, fields)

    topics = tuple(topic_filter("school", m) for m in measurements)
    return Scope("school", topics, ("school",), measurements, feed, evaluator.advance)


class AlertService:
    """A running alert service of one `Scope`: `start()`, `stop()`; `alerts()` lists what it has published."""

    def __init__(self, scope: Scope, mqtt_host: str, mqtt_port: int, *, http_host: str = "127.0.0.1",
                 http_port: int = 0, clock: Callable[[], int] = time.time_ns, tick_s: float = 30.0,
                 client_id: str | None = None, configure: Callable | None = None) -> None:
        """`configure` applies the shared [mqtt] settings (TLS, credentials) to the paho client before it connects."""
        import paho.mqtt.client as mqtt

        self.scope = scope
        self.clock, self.tick_s = clock, tick_s
        self.mqtt_host, self.mqtt_port = mqtt_host, mqtt_port
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"iotorino-{scope.name}-alerts-{uuid.uuid4().hex[:8]}")
        if configure is not None:
            configure(self.client)
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

    def start(self) -> "AlertService":
        """Connect, subscribe, and start the HTTP server and the ticker."""
        try:
            self.client.connect(self.mqtt_host, self.mqtt_port, keepalive=30)
        except OSError as exc:
            raise TransientError(f"cannot connect to the MQTT broker at {self.mqtt_host}:{self.mqtt_port}: {exc}") from exc
        self.client.loop_start()
        for target in (self._http.serve_forever, self._tick):
            thread = threading.Thread(target=target, daemon=True, name=f"{self.scope.name}-alerts-{target.__name__}")
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
        client.subscribe([(t, QOS) for t in self.scope.topics])
        self.subscribed.set()

    def _on_message(self, client, userdata, message) -> None:
        try:
            address, when, fields = read_message(message.topic, message.payload, self.clock(), self.scope.sites,
                                                 self.scope.measurements)
        except Rejected as exc:
            if not self.rejected[exc.reason]:  # reason and field only: never the payload
                log.warning("%s alerts: message skipped: %s (field %s)", self.scope.name, exc.reason, exc.field)
            self.rejected[exc.reason] += 1
            return
        self.messages += 1
        with self._lock:
            updates = self.scope.feed(address, when, fields)
        self._publish(updates)

    def _tick(self) -> None:
        while not self._stop.wait(self.tick_s):
            with self._lock:
                updates = self.scope.advance(self.clock())
            self._publish(updates)

    def _publish(self, updates: list[contract.Alert]) -> None:
        for alert in updates:
            with self._lock:
                self._alerts[alert.id] = alert
            self.client.publish(contract.topic(self.scope.name, alert), alert.to_json(), qos=QOS, retain=True)
            log.info("alert %s %s", alert.id, "opened" if alert.active else "ended")


class CityAlertService(AlertService):
    """The city's alert service (street units' thresholds)."""

    def __init__(self, mqtt_host: str, mqtt_port: int, *, interval_of: IntervalOf | None = None,
                 evaluator: CityAlerts | None = None, **options) -> None:
        self.evaluator = evaluator or CityAlerts(interval_of or inventory_intervals())
        super().__init__(city_scope(self.evaluator), mqtt_host, mqtt_port, **options)


class SchoolAlertService(AlertService):
    """The schools' alert service (classroom air, baseload, out-of-hours use, heating, silent devices)."""

    def __init__(self, mqtt_host: str, mqtt_port: int, *, evaluator=None, settings=None, **options) -> None:
        from iotorino.alerts.school import SchoolAlerts, facts_from_inventory
        from iotorino.core import inventory as fleet
        from iotorino.core import school_calendar

        self.evaluator = evaluator or SchoolAlerts(facts_from_inventory(fleet.default()), school_calendar.default(),
                                                   settings)
        super().__init__(school_scope(self.evaluator), mqtt_host, mqtt_port, **options)


def _handler(service: AlertService) -> type[BaseHTTPRequestHandler]:
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
