"""Fixtures of the fleet health tests: the MQTT collector storing the broker's messages, a monitor with
its feed, publishing as gateways do, a patient wait."""

from __future__ import annotations

import time

import paho.mqtt.publish as publish
from fastapi.testclient import TestClient

from iotorino.core.outbox import Outbox

from iotorino.publisher import Publisher
from iotorino.core import inventory
from iotorino.beacons.api import create_app
from iotorino.beacons.monitor import Monitor


def wait_until(predicate, timeout=120.0, what="condition"):
    """Poll `predicate` until it returns something true (returned) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def send(mosquitto, messages):
    """Publish `messages` (publish.Message) with QoS 1, in order."""
    publish.multiple([{"topic": m.topic, "payload": m.payload, "qos": 1} for m in messages],
                     hostname="127.0.0.1", port=mosquitto.port)


class RunningMonitor:
    """A monitor (its wall clock stopped at `now`) with its own status publisher and the HTTP feed over it."""

    def __init__(self, settings, beacons, influx, now) -> None:
        mqtt = settings.mqtt
        self.publisher = Publisher(mqtt.host, mqtt.port, mqtt.client_id, Outbox(settings.spool_path))
        registry = {b.id: b for b in beacons.values()}
        self.monitor = Monitor(settings, registry, self.publisher, wall_clock=lambda: now, store=influx)
        self.feed = TestClient(create_app(registry, inventory.default(), self.monitor.statuses, self.monitor.not_ready,
                                          self.monitor.gateway_statuses))

    def start(self):
        self.publisher.start()
        self.monitor.start()
        assert self.monitor.restored.wait(60), self.monitor.not_ready()
        return self

    def stop(self):
        self.monitor.stop()
        assert self.publisher.stop(timeout_s=30) == 0

    def statuses(self):
        return {b: (s.status, s.flags, s.since_ns // 10**6) for b, s in self.monitor.statuses().items()}
