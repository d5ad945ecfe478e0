"""The city alert service against a real mosquitto: an injected NO₂ episode fires once, retained, listed over HTTP."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest

from iotorino.alerts.service import CityAlertService
from iotorino.core import alerts as contract
from iotorino.core.times import format_ns
from iotorino.simulate.publisher import MqttSender
from tests.mqtt.streams import wait_for

pytestmark = pytest.mark.integration
UNIT = "TO-SU-0001"
T0 = datetime(2026, 11, 21, 6, tzinfo=timezone.utc)


class Listener:
    """A subscriber to `iotorino/alerts/#` keeping every message (topic, payload, retained flag)."""

    def __init__(self, port: int) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda c, *a: (c.subscribe("iotorino/alerts/#", 1), self.ready.set())
        self.client.on_message = lambda c, u, m: self.messages.append((m.topic, m.payload, bool(m.retain)))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.ready.wait(10)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def no2_messages(levels: list[float]) -> list[tuple[str, bytes]]:
    """Native messages every 5 minutes, one hour per level, plus one reading of the next hour."""
    out = []
    for i, level in enumerate([*levels, 50.0]):
        for m in range(0, 60 if i < len(levels) else 5, 5):
            t = T0 + timedelta(hours=i, minutes=m)
            body = {"time": format_ns(int(t.timestamp()) * 1_000_000_000), "fields": {"no2": level, "pm10": 20.0}}
            out.append((f"iotorino/v1/street/{UNIT}/air_quality", json.dumps(body).encode()))
    return out


def test_an_injected_episode_fires_once_retained_and_over_http(mosquitto):
    listener = Listener(mosquitto.port)
    service = CityAlertService("127.0.0.1", mosquitto.port, interval_of=lambda unit, m: 300, tick_s=3600).start()
    try:
        assert service.subscribed.wait(10)
        with MqttSender("127.0.0.1", mosquitto.port) as sender:
            sender.send(f"iotorino/v1/street/{UNIT}/air_quality", b"{not json")  # skipped, counted, no crash
            for topic, payload in no2_messages([80, 450, 460, 470, 90]):
                sender.send(topic, payload)
        wait_for(lambda: sum(1 for t, *_ in listener.messages if t.endswith("/no2_alert_threshold")) >= 2,
                 what="the alert episode opened and ended")
        by_id: dict[str, list[contract.Alert]] = {}
        for _, payload, _ in listener.messages:
            alert = contract.from_json(payload)
            by_id.setdefault(alert.id, []).append(alert)
        hour = lambda h: int((T0 + timedelta(hours=h)).timestamp()) * 1_000_000_000  # noqa: E731
        # One episode per kind, each published twice: opened, then ended.
        assert {(a[0].kind, a[0].start_ns, a[-1].end_ns, len(a)) for a in by_id.values()} == {
            ("no2_hourly_limit", hour(1), hour(4), 2), ("no2_alert_threshold", hour(1), hour(4), 2)}
        assert service.rejected == {"undecodable": 1}  # the native contract's reason

        late = Listener(mosquitto.port)  # a subscriber arriving later sees the retained ended episode
        try:
            wait_for(lambda: len(late.messages) >= 2, what="retained alerts")
            retained = {t: contract.from_json(p) for t, p, r in late.messages if r}
            assert retained[f"iotorino/alerts/city/{UNIT}/no2_alert_threshold"].end_ns == hour(4)
        finally:
            late.close()

        with urllib.request.urlopen(f"http://127.0.0.1:{service.http_port}/alerts", timeout=10) as answer:
            listed = json.loads(answer.read())["alerts"]
        assert {(a["kind"], a["end"]) for a in listed} == {("no2_hourly_limit", format_ns(hour(4))),
                                                           ("no2_alert_threshold", format_ns(hour(4)))}
        with urllib.request.urlopen(f"http://127.0.0.1:{service.http_port}/alerts?active=1", timeout=10) as answer:
            assert json.loads(answer.read())["alerts"] == []
    finally:
        service.stop()
        listener.close()


def test_the_command_serves_until_terminated(mosquitto, cli_env, python):
    import signal
    import socket
    import subprocess

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [python, "-m", "iotorino", "alerts", "city", "--mqtt-port", str(mosquitto.port), "--http-port", str(port)],
        env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert f"http://127.0.0.1:{port}/alerts" in line
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/alerts", timeout=10) as answer:
            assert json.loads(answer.read()) == {"alerts": []}
        wait_for(lambda: http_get(port, "/readyz")[0] == 200, what="ready once subscribed")
        assert http_get(port, "/healthz") == (200, {"alive": True})
        status, metrics = http_get(port, "/metrics")
        assert status == 200 and 'iotorino_thread_restarts_total{thread="city-alerts-mqtt"} 0.0' in metrics
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0


def http_get(port: int, path: str) -> tuple[int, object]:
    """(status, JSON body or text) of GET `path` on the service's port."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
            status, body = answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode()
    return status, (json.loads(body) if body.startswith("{") else body)


def test_the_service_is_ready_only_with_the_broker_and_counts_in_its_metrics(tmp_path):
    """Started with the broker down it serves /healthz (alive) and /readyz 503 naming the broker; once the broker
    is up it connects by itself, turns ready and counts what it evaluates, publishes and rejects."""
    from iotorino.services import Mosquitto, free_port

    port = free_port()
    service = CityAlertService("127.0.0.1", port, interval_of=lambda unit, m: 300, tick_s=3600).start()
    broker = None
    try:
        assert http_get(service.http_port, "/healthz") == (200, {"alive": True})
        status, body = http_get(service.http_port, "/readyz")
        assert status == 503 and f"127.0.0.1:{port}" in body["components"]["city-alerts-broker"]["reason"]
        broker = Mosquitto(tmp_path / "broker", port).start()
        wait_for(lambda: http_get(service.http_port, "/readyz")[0] == 200, what="ready after the broker came up")
        with MqttSender("127.0.0.1", port) as sender:
            sender.send(f"iotorino/v1/street/{UNIT}/air_quality", b"{not json")
            for topic, payload in no2_messages([80, 250, 90]):
                sender.send(topic, payload)
        wait_for(lambda: len(service.alerts()) == 1 and service.alerts()[0]["end"] is not None,
                 what="the NO2 episode opened and ended")
        metrics = http_get(service.http_port, "/metrics")[1]
        for line in ('iotorino_alert_readings_evaluated_total{scope="city"} 37.0',
                     'iotorino_alerts_published_total{kind="no2_hourly_limit",scope="city",state="opened"} 1.0',
                     'iotorino_alerts_published_total{kind="no2_hourly_limit",scope="city",state="ended"} 1.0',
                     'iotorino_alert_episodes_active{scope="city"} 0.0',
                     'iotorino_alert_messages_rejected_total{reason="undecodable",scope="city"} 1.0'):
            assert line in metrics
        assert http_get(service.http_port, "/alerts?active=1") == (200, {"alerts": []})
    finally:
        service.stop()
        if broker is not None:
            broker.stop()


def test_the_school_service_fires_ventilate_once_retained_and_over_http(mosquitto):
    """A classroom above 1,500 ppm for 30 minutes in teaching hours, through MQTT, once per episode."""
    from iotorino.alerts.service import SchoolAlertService

    rome = ZoneInfo("Europe/Rome")
    start = datetime(2026, 3, 3, 9, 0, tzinfo=rome)  # a Tuesday in term, TO-SC-01 open 07:45-16:30
    listener = Listener(mosquitto.port)
    service = SchoolAlertService("127.0.0.1", mosquitto.port, tick_s=3600).start()
    try:
        assert service.subscribed.wait(10)
        with MqttSender("127.0.0.1", mosquitto.port) as sender:
            for i, ppm in enumerate([1200, 1600, 1700, 1800, 1900, 2000, 2100, 2200, 1300]):
                t = int((start + timedelta(minutes=5 * i)).timestamp()) * 1_000_000_000
                body = {"time": format_ns(t), "fields": {"co2": ppm, "temperature": 21.0, "relative_humidity": 45.0}}
                sender.send("iotorino/v1/school/TO-SC-01/R01/indoor_climate", json.dumps(body).encode())
        topic = "iotorino/alerts/school/TO-SC-01/R01/co2_ventilate"
        wait_for(lambda: sum(1 for t, *_ in listener.messages if t == topic) >= 2, what="opened and ended")
        updates = [contract.from_json(p) for t, p, _ in listener.messages if t == topic]
        assert [u.active for u in updates] == [True, False]  # opened once, ended once
        assert updates[0].id == updates[-1].id and updates[0].start_ns == int((start + timedelta(minutes=5)).timestamp()) * 10**9
        with urllib.request.urlopen(f"http://127.0.0.1:{service.http_port}/alerts", timeout=10) as answer:
            listed = json.loads(answer.read())["alerts"]
        assert [(a["kind"], a["site"]) for a in listed] == [("co2_ventilate", "TO-SC-01/R01")]
        assert "finestre" in listed[0]["action_it"]
    finally:
        service.stop()
        listener.close()
