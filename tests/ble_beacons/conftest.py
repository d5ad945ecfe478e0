"""Fixtures of the BLE gateway tests: a subscriber that records what reaches the broker, a gateway config."""

from __future__ import annotations

import threading
import uuid

import paho.mqtt.client as mqtt
import pytest

from ingest.ble_beacons import config


class Recorder:
    """Subscribes to `topic` on a broker and keeps every message (topic, payload bytes, retain)."""

    def __init__(self, port: int, topic: str = "#") -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"rec-{uuid.uuid4().hex[:8]}")
        self._client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self._client.on_subscribe = lambda *a: self._subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        assert self._subscribed.wait(10), "subscription not acknowledged"

    def _on_message(self, client, userdata, message) -> None:
        with self._lock:
            self.messages.append((message.topic, bytes(message.payload), bool(message.retain)))

    def wait_for(self, count: int, timeout: float = 20.0, measurement: str = "") -> list[tuple[str, bytes, bool]]:
        """Wait until at least `count` messages (of topics ending in /`measurement`, if given) arrived
        (or fail), then return them all (those)."""
        import time

        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                got = [m for m in self.messages if not measurement or m[0].endswith("/" + measurement)]
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(got)} of {count} messages arrived")
            time.sleep(0.02)

    def wait_for_topic(self, topic: str, timeout: float = 20.0) -> list[tuple[str, bytes, bool]]:
        """Wait until a message on `topic` arrived (or fail), then return every message up to it."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for n, (got, _, _) in enumerate(self.messages):
                    if got == topic:
                        return self.messages[:n + 1]
            time.sleep(0.02)
        raise AssertionError(f"no message on {topic} arrived")

    def close(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def subscriber(mosquitto):
    """Records everything published on the test's broker."""
    recorder = Recorder(mosquitto.port)
    yield recorder
    recorder.close()


@pytest.fixture
def gateway_config(tmp_path, mosquitto):
    """A gateway config on the test's broker with its spool in tmp_path."""
    return config.parse({"gateway": {"id": "gw-test", "window_s": 30},
                         "mqtt": {"port": mosquitto.port, "spool": "spool.sqlite"}}, tmp_path)
