"""The collector's own MQTT session over TLS with a password, as in production, on a real broker."""

from __future__ import annotations

import json
import time

import paho.mqtt.publish as publish
import pytest

from ingest.mqtt.collector import Collector
from iotorino.core import inventory

pytestmark = pytest.mark.integration

T0 = time.time_ns() // 10**9 * 10**9 - 86_400 * 10**9
COUNT = 3000


def _collector(collector_factory, broker, certs, password_env: str) -> Collector:
    return collector_factory(broker.port, client_id="secure", tls=True, ca_file=str(certs["ca"]),
                             username="collector", password_env=password_env)


def test_collector_stores_over_tls_with_password(secure_broker, influx, collector_factory, monkeypatch, caplog):
    broker, certs = secure_broker
    monkeypatch.setenv("IOTORINO_TEST_MQTT_PASSWORD", "c0llect")
    collector = _collector(collector_factory, broker, certs, "IOTORINO_TEST_MQTT_PASSWORD")
    try:
        assert collector.subscribed.wait(10)
        unit = next(u for u in inventory.default().street_units.values()
                    if "air_quality" in inventory.default().profiles[u.profile].measurements)
        # Enough messages that acks (writer thread) and reads (network thread) overlap on the TLS socket.
        sent = [[T0 + i * 10**9, float(i % 500)] for i in range(COUNT)]
        publish.multiple([{"topic": f"iotorino/v1/street/{unit.id}/air_quality", "qos": 1,
                           "payload": json.dumps({"time": t / 1e9, "fields": {"pm25": v}})} for t, v in sent],
                         hostname="127.0.0.1", port=broker.port, auth={"username": "sensor", "password": "s3nsor"},
                         tls={"ca_certs": str(certs["ca"])})
        deadline = time.monotonic() + 60
        while collector.stats.stored_messages < COUNT:
            assert time.monotonic() < deadline, f"only {collector.stats.stored_messages} of {COUNT} stored"
            time.sleep(0.05)
        assert influx.query('SELECT "pm25" FROM "air_quality"')[0]["values"] == sent
    finally:
        collector.stop()
    assert "c0llect" not in caplog.text


def test_wrong_password_never_subscribes_and_is_not_logged(secure_broker, collector_factory, monkeypatch, caplog):
    broker, certs = secure_broker
    monkeypatch.setenv("IOTORINO_TEST_MQTT_PASSWORD", "wr0ng-secret")
    collector = _collector(collector_factory, broker, certs, "IOTORINO_TEST_MQTT_PASSWORD")
    try:
        assert not collector.subscribed.wait(3)
    finally:
        collector.stop()
    assert "wr0ng-secret" not in caplog.text
