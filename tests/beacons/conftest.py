"""Fixtures of the fleet health tests: the MQTT collector storing the broker's messages, a patient wait."""

from __future__ import annotations

import time

import pytest

from ingest.mqtt import config as collector_config
from ingest.mqtt.app import build_pipeline
from ingest.mqtt.collector import Collector
from ingest.mqtt.deadletters import DeadLetterStore


def wait_until(predicate, timeout=120.0, what="condition"):
    """Poll `predicate` until it returns something true (returned) or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture
def mqtt_collector(mosquitto, influx, tmp_path):
    """The project's MQTT collector storing the broker's native messages in the test database."""
    settings = collector_config.from_dict({
        "mqtt": {"port": mosquitto.port, "client_id": "e2e-ble"},
        "subscriptions": [{"topic": "iotorino/v1/#", "format": "native"}],
        "influxdb": {"url": influx.settings.url, "database": influx.settings.database},
        "batch": {"max_delay_s": 0.05},
        "deadletters": {"path": str(tmp_path / "deadletters.sqlite")},
    })
    running = Collector(settings, build_pipeline(settings), influx, DeadLetterStore(settings.deadletters_path))
    running.start()
    assert running.subscribed.wait(10)
    yield running
    running.stop()
