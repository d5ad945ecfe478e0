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

HTTP (loopback by default), one port: `GET /alerts` lists every episode seen
since start, newest first (`?active=1`: only those going on); `/metrics`
(readings evaluated, alerts published by kind and state, episodes going on,
messages rejected by reason, thread restarts), `/healthz` (alive) and
`/readyz` (ready while connected to the broker and subscribed), served by
`iotorino.core.health`. Every thread runs under `iotorino.core.supervisor`:
paho's network loop (reconnecting by itself, 1 s to 30 s), the ticker and
the HTTP server.

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
from collections import Counter as CounterOf
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge

from iotorino.alerts.city import SCOPE, CityAlerts, IntervalOf
from iotorino.core import alerts as contract
from iotorino.core.contract import TopicAddress, decode, topic_filter
from iotorino.core.contract import parse as parse_topic
from iotorino.core import health
from iotorino.core.errors import Rejected
from iotorino.core.supervisor import Supervisor

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


class AlertMetrics:
    """The service's Prometheus series (one registry per service, served at `/metrics`)."""

    def __init__(self, scope: str) -> None:
        self.registry = CollectorRegistry()
        self.evaluated = Counter("iotorino_alert_readings_evaluated", "Readings fed to the alert evaluator",
                                 ["scope"], registry=self.registry).labels(scope=scope)
        self.published = Counter("iotorino_alerts_published", "Alert updates published retained on MQTT",
                                 ["scope", "kind", "state"], registry=self.registry)
        self.active = Gauge("iotorino_alert_episodes_active", "Episodes going on now", ["scope"],
                            registry=self.registry).labels(scope=scope)
        self.rejected = Counter("iotorino_alert_messages_rejected", "Messages the alert service could not read",
                                ["scope", "reason"], registry=self.registry)


class AlertService:
    """A running alert service of one `Scope`: `start()`, `stop()`; `alerts()` lists what it has published.

    Its threads run under `iotorino.core.supervisor` (`<scope>-alerts-mqtt`: paho's network loop, which
    reconnects by itself; `<scope>-alerts-ticker`; `health-http`), and one HTTP server answers `GET /alerts`,
    `/metrics`, `/healthz` and `/readyz` (`iotorino.core.health`): ready while connected to the broker and
    subscribed.
    """

    def __init__(self, scope: Scope, mqtt_host: str, mqtt_port: int, *, http_host: str = "127.0.0.1",
                 http_port: int = 0, clock: Callable[[], int] = time.time_ns, tick_s: float = 30.0,
                 client_id: str | None = None, configure: Callable | None = None, keepalive_s: int = 30,
                 supervisor: Supervisor | None = None) -> None:
        """`configure` applies the shared [mqtt] settings (TLS, credentials) to the paho client before it connects."""
        import paho.mqtt.client as mqtt

        self.scope = scope
        self.clock, self.tick_s = clock, tick_s
        self.mqtt_host, self.mqtt_port, self.keepalive_s = mqtt_host, mqtt_port, keepalive_s
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"iotorino-{scope.name}-alerts-{uuid.uuid4().hex[:8]}")
        if configure is not None:
            configure(self.client)
        self.client.reconnect_delay_set(1, 30)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.metrics = AlertMetrics(scope.name)
        self.supervisor = supervisor or Supervisor(f"{scope.name}-alerts", registry=self.metrics.registry)
        self.rejected: CounterOf[str] = CounterOf()
        self.messages = 0
        self.subscribed = threading.Event()
        self._alerts: dict[str, contract.Alert] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._http_address = (http_host, http_port)
        self._http: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._broker = f"{scope.name}-alerts-broker"

    @property
    def http_port(self) -> int:
        """The HTTP port actually bound (useful with port 0)."""
        return self._http.server_address[1] if self._http is not None else self._http_address[1]

    def start(self) -> "AlertService":
        """Serve HTTP, connect in the background (reconnecting by itself) and start the ticker, all supervised."""
        self.supervisor.set_ready(self._broker, False, f"connecting to the broker at {self.mqtt_host}:{self.mqtt_port}")
        self._http = health.serve(self.metrics.registry, self.supervisor, *self._http_address,
                                  routes={"/alerts": self._list})
        self.client.connect_async(self.mqtt_host, self.mqtt_port, keepalive=self.keepalive_s)
        self._threads = [self.supervisor.spawn(f"{self.scope.name}-alerts-mqtt", self._network_loop),
                         self.supervisor.spawn(f"{self.scope.name}-alerts-ticker", self._tick)]
        return self

    def stop(self) -> None:
        """Stop ticking, the MQTT loop and serving."""
        self._stop.set()
        self.supervisor.stop()
        self.client.disconnect()
        for thread in self._threads:
            thread.join(10)
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()

    def alerts(self, active_only: bool = False) -> list[dict]:
        """Every episode seen since start (newest first), as the contract's JSON objects."""
        with self._lock:
            chosen = [a for a in self._alerts.values() if a.active or not active_only]
        return [a.to_dict() for a in sorted(chosen, key=lambda a: a.start_ns, reverse=True)]

    def _list(self, query: str) -> tuple[int, bytes, str]:
        """`GET /alerts` (`?active=1`: only the episodes going on)."""
        active = "active=1" in query.split("&")
        body = json.dumps({"alerts": self.alerts(active_only=active)}, ensure_ascii=False).encode()
        return 200, body, "application/json; charset=utf-8"

    def _network_loop(self) -> None:
        while not self._stop.is_set():
            self.client.loop_forever(retry_first_connection=True)
            self._stop.wait(1.0)  # returned without `stop`: never spin

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("MQTT broker refused the connection: %s", reason_code)
            return
        client.subscribe([(t, QOS) for t in self.scope.topics])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        """Ready once the broker has granted every subscription (SUBACK): from then on nothing is missed."""
        refused = [str(code) for code in reason_codes if code.is_failure]
        if refused:
            log.error("%s alerts: the broker refused a subscription: %s", self.scope.name, ", ".join(refused))
            self.supervisor.set_ready(self._broker, False, f"subscription refused by the broker: {', '.join(refused)}")
            return
        self.supervisor.set_ready(self._broker, True)
        self.subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.subscribed.clear()
        if not self._stop.is_set():
            self.supervisor.set_ready(self._broker, False, f"broker {self.mqtt_host}:{self.mqtt_port} unreachable "
                                                           "(reconnecting); nothing is evaluated meanwhile")
            log.warning("%s alerts: broker link down (%s); reconnecting", self.scope.name, reason_code)

    def _on_message(self, client, userdata, message) -> None:
        try:
            address, when, fields = read_message(message.topic, message.payload, self.clock(), self.scope.sites,
                                                 self.scope.measurements)
        except Rejected as exc:
            if not self.rejected[exc.reason]:  # reason and field only: never the payload
                log.warning("%s alerts: message skipped: %s (field %s)", self.scope.name, exc.reason, exc.field)
            self.rejected[exc.reason] += 1
            self.metrics.rejected.labels(scope=self.scope.name, reason=exc.reason).inc()
            return
        self.messages += 1
        self.metrics.evaluated.inc()
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
                active = sum(1 for a in self._alerts.values() if a.active)
            self.client.publish(contract.topic(self.scope.name, alert), alert.to_json(), qos=QOS, retain=True)
            state = "opened" if alert.active else "ended"
            self.metrics.published.labels(scope=self.scope.name, kind=alert.kind, state=state).inc()
            self.metrics.active.set(active)
            log.info("alert %s %s", alert.id, state)


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
