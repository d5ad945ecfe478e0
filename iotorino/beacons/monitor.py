"""The health monitor's wiring: sightings from the broker in, status changes out (retained + InfluxDB).

It subscribes to every gateway's `beacon_sighting` topic, feeds `FleetHealth`,
evaluates the fleet every few seconds and publishes each change twice through
the spooled QoS 1 publisher:
- retained `iotorino/beacons/<beacon_id>/status` (JSON), for anyone who wants
  the current status the moment they subscribe;
- `iotorino/v1/beacon/<beacon_id>/<monitor id>/beacon_status`, the native
  topic family, so the MQTT collector stores it in InfluxDB like any reading.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from typing import Mapping

import paho.mqtt.client as mqtt

from iotorino.beacons.config import BeaconsConfig
from iotorino.beacons.health import PRECEDENCE, S, BeaconStatus, FleetHealth
from iotorino.errors import Rejected
from iotorino.reading import Reading
from ingest.ble_beacons.publish import TOPIC_PREFIX, Message, Publisher, reading_message
from ingest.ble_beacons.rfc3339 import format_ns, parse_ns

log = logging.getLogger(__name__)

SIGHTINGS_TOPIC = f"{TOPIC_PREFIX}/+/+/beacon_sighting"
STATUS_TOPIC = "iotorino/beacons/{beacon}/status"


def status_document(status: BeaconStatus) -> dict:
    """The JSON document of a status (retained message and API): ids, times, numbers; no addresses."""
    stamp = lambda t: None if t is None else format_ns(t)  # noqa: E731
    return {
        "beacon": status.beacon, "status": status.status, "status_code": status.code,
        "flags": sorted(status.flags), "since": stamp(status.since_ns), "last_seen": stamp(status.last_seen_ns),
        "last_gateway": status.last_gateway, "battery_mv": status.battery_mv,
        "battery_days_left": status.battery_days_left, "unseen_s": status.unseen_s,
    }


def status_messages(status: BeaconStatus, monitor_id: str, now_ns: int) -> list[Message]:
    """The retained status message and the native `beacon_status` reading message for one change."""
    fields: dict = {"status_code": status.code, "unseen_s": float(status.unseen_s or 0.0)}
    fields.update({flag: flag in status.flags for flag in PRECEDENCE})
    if status.battery_days_left is not None:
        fields["battery_days_left"] = float(status.battery_days_left)
    reading = Reading("beacon_status", {"beacon": status.beacon, "gateway": monitor_id}, fields, now_ns)
    document = json.dumps(status_document(status), separators=(",", ":")).encode()
    return [Message(STATUS_TOPIC.format(beacon=status.beacon), document, retain=True), reading_message(reading)]


def parse_sighting(topic: str, payload: bytes) -> Reading:
    """A `beacon_sighting` message back into its reading; `Rejected` if it is not one."""
    levels = topic.split("/")
    try:
        document = json.loads(payload)
        return Reading("beacon_sighting", {"beacon": levels[3], "gateway": levels[4]},
                       dict(document["fields"]), parse_ns(document["time"]))
    except (ValueError, KeyError, TypeError, IndexError):
        raise Rejected("bad_sighting", "not a beacon_sighting message", field="payload", value=payload[:80],
                       accepted='{"time": RFC 3339, "fields": {...}}') from None


class Monitor:
    """Runs `FleetHealth` on the broker's sightings and publishes status changes."""

    def __init__(self, settings: BeaconsConfig, beacons: Mapping, publisher: Publisher,
                 wall_clock=time.time_ns) -> None:
        self.settings = settings
        self.publisher = publisher
        self._wall_clock = wall_clock
        self.health = FleetHealth(beacons, settings.gateways, settings.thresholds, wall_clock())
        self._lock = threading.Lock()
        self._latest_by_gateway: dict[str, int] = {}
        self._stop = threading.Event()
        self._started_event_clock = False
        self.subscribed = threading.Event()
        self.observed = 0
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                   client_id=f"{settings.mqtt.client_id}-in-{uuid.uuid4().hex[:6]}")
        self._client.on_connect = lambda c, u, f, rc, p: c.subscribe(SIGHTINGS_TOPIC, qos=1)
        self._client.on_subscribe = lambda *_: self.subscribed.set()
        self._client.on_message = self._on_message
        self._evaluator = threading.Thread(target=self._evaluate_loop, name="beacon-health", daemon=True)

    def start(self) -> None:
        """Subscribe and start evaluating in the background."""
        self._client.connect_async(self.settings.mqtt.host, self.settings.mqtt.port, self.settings.mqtt.keepalive_s)
        self._client.loop_start()
        self._evaluator.start()

    def stop(self) -> None:
        """Stop evaluating and unsubscribe."""
        self._stop.set()
        self._evaluator.join()
        self._client.disconnect()
        self._client.loop_stop()

    def statuses(self) -> dict[str, BeaconStatus]:
        """The latest status of every beacon (empty before the first evaluation)."""
        with self._lock:
            return self.health.current()

    def now_ns(self) -> int | None:
        """Wall clock, or with clock = "event" the oldest latest window end among the configured
        gateways (None until each has reported): no beacon is judged on time a gateway has not covered."""
        if self.settings.monitor.clock == "wall":
            return self._wall_clock()
        with self._lock:
            expected = self.settings.gateways or self._latest_by_gateway
            if not expected or any(g not in self._latest_by_gateway for g in expected):
                return None
            return min(self._latest_by_gateway[g] for g in expected)

    def evaluate(self) -> int:
        """Evaluate the fleet now and publish the changes; returns how many beacons changed."""
        now = self.now_ns()
        if now is None:
            return 0
        with self._lock:
            if not self._started_event_clock and self.settings.monitor.clock == "event":
                self.health.start_ns = now  # never-seen beacons count as unseen from here
                self._started_event_clock = True
            changes = self.health.evaluate(now)
        for status in changes:
            if status.status != "ok":
                log.info("beacon %s: %s", status.beacon, status.status)
        self.publisher.publish(m for status in changes for m in status_messages(status, self.settings.monitor.id, now))
        return len(changes)

    def _evaluate_loop(self) -> None:
        while not self._stop.wait(self.settings.monitor.evaluate_every_s):
            self.evaluate()

    def _on_message(self, client, userdata, message) -> None:
        try:
            reading = parse_sighting(message.topic, message.payload)
        except Rejected as error:
            log.warning("ignoring a message on %s: %s", message.topic, error)
            return
        window_end = reading.time_ns + self.settings.thresholds.window_s * S
        with self._lock:
            self.health.observe(reading)
            gateway = reading.tags["gateway"]
            self._latest_by_gateway[gateway] = max(self._latest_by_gateway.get(gateway, 0), window_end)
            self.observed += 1
