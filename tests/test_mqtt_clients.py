"""The shared [mqtt] client section on a real broker with TLS and passwords only: the simulator, the BLE
gateway and a paho client as the monitor makes it all connect with it; secrets never show."""

from __future__ import annotations

import subprocess
import threading
import uuid
from datetime import datetime, timedelta, timezone

import paho.mqtt.client as mqtt
import pytest

from iotorino.core import catalogue, config, inventory
from iotorino.core.errors import TransientError
from iotorino.simulate.generator import count_messages
from iotorino.simulate.publisher import simulate
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 20, 8, tzinfo=timezone.utc)


def shared_section(broker, certs, **keys) -> config.MqttClient:
    """The [mqtt] table as every component reads it, for the test's TLS broker."""
    return config.mqtt_client({"mqtt": {"host": "127.0.0.1", "port": broker.port, "tls": True,
                                        "ca_file": str(certs["ca"]), **keys}})


class TlsRecorder:
    """A subscriber configured from the shared section, keeping the topics it receives."""

    def __init__(self, settings: config.MqttClient) -> None:
        self.topics: list[str] = []
        subscribed = threading.Event()
        self.client = settings.configure_paho(mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                                          client_id=f"rec-{uuid.uuid4().hex[:8]}"))
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe("iotorino/#", qos=1)
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.on_message = lambda c, u, m: self.topics.append(m.topic)
        self.client.connect(settings.host, settings.port)
        self.client.loop_start()
        assert subscribed.wait(10), "the recorder did not subscribe"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def recorder(secure_broker, monkeypatch):
    broker, certs = secure_broker
    monkeypatch.setenv("IOTORINO_TEST_SENSOR_PASSWORD", "s3nsor")
    running = TlsRecorder(shared_section(broker, certs, username="sensor", password_env="IOTORINO_TEST_SENSOR_PASSWORD"))
    yield running
    running.close()


def test_simulator_publishes_with_tls_and_a_password_file(secure_broker, recorder, tmp_path):
    broker, certs = secure_broker
    secret = tmp_path / "mqtt_password"
    secret.write_text("s3nsor\n")
    settings = shared_section(broker, certs, username="sensor", password_file=str(secret))
    fleet, measurements = inventory.default(), catalogue.default()
    end = START + timedelta(minutes=2)
    summary = simulate(settings.host, settings.port, START, end, None, 7, inventory=fleet, catalogue=measurements,
                       mqtt_settings=settings)
    # published = sent and acknowledged by the broker
    assert summary.published == summary.generated == count_messages(fleet, measurements, START, end, 7) > 0


def test_simulator_with_a_wrong_password_is_refused_without_showing_it(secure_broker, monkeypatch):
    broker, certs = secure_broker
    monkeypatch.setenv("IOTORINO_TEST_WRONG", "wr0ng-secret")
    settings = shared_section(broker, certs, username="sensor", password_env="IOTORINO_TEST_WRONG")
    with pytest.raises(TransientError) as caught:
        simulate(settings.host, settings.port, START, START + timedelta(minutes=1), None, 7, mqtt_settings=settings)
    assert "did not accept" in str(caught.value) and "wr0ng-secret" not in str(caught.value)
    assert "wr0ng-secret" not in repr(settings)


def test_a_client_certificate_is_presented_when_configured(secure_broker, recorder):
    broker, certs = secure_broker
    # The server's own pair stands in for a client certificate: the broker accepts any it can verify or none.
    settings = shared_section(broker, certs, username="sensor", password_env="IOTORINO_TEST_SENSOR_PASSWORD",
                              cert_file=str(certs["cert"]), key_file=str(certs["key"]))
    client = settings.configure_paho(mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="with-cert"))
    client.connect(settings.host, settings.port)
    client.loop_start()
    try:
        client.publish("iotorino/v1/test/cert", b"{}", qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()
    wait_until(lambda: "iotorino/v1/test/cert" in recorder.topics)


def test_ble_gateway_replays_over_tls_with_a_password(secure_broker, recorder, python, cli_env, tmp_path):
    broker, certs = secure_broker
    captures = tmp_path / "captures"
    made = subprocess.run([python, "-m", "iotorino", "simulate", "ble-capture", "--out", str(captures),
                           "--minutes", "5"], cwd=ROOT, env=cli_env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    gateway_toml = tmp_path / "gw.toml"
    gateway_toml.write_text(
        f'[gateway]\nid = "GW-01"\n[mqtt]\nport = {broker.port}\nspool = "s.sqlite"\ntls = true\n'
        f'ca_file = "{certs["ca"]}"\nusername = "sensor"\npassword_env = "IOTORINO_TEST_GATEWAY_PASSWORD"\n')
    done = subprocess.run([python, "-m", "iotorino", "collect", "ble", "--config", str(gateway_toml), "--replay",
                           str(captures / "GW-01.jsonl"), "--speed", "0"], cwd=ROOT,
                          env={**cli_env, "IOTORINO_TEST_GATEWAY_PASSWORD": "s3nsor"},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "s3nsor" not in done.stderr + done.stdout
    wait_until(lambda: "iotorino/v1/gateway/GW-01/ble_gateway" in recorder.topics)


def wait_until(done, timeout: float = 20.0) -> None:
    """Return once `done()` is true; fail after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the expected message did not arrive"
        time.sleep(0.05)
