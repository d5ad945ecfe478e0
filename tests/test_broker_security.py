"""The broker fixtures can run as production does: TLS and password authentication."""

import ssl

import paho.mqtt.client as mqtt
import pytest


pytestmark = pytest.mark.integration


def _connect(port, ca, username, password) -> mqtt.ReasonCode:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(ca))
    client.username_pw_set(username, password)
    outcome = {}
    client.on_connect = lambda c, u, f, reason, p: outcome.setdefault("reason", reason)
    client.connect("127.0.0.1", port)
    while "reason" not in outcome:
        client.loop(0.1)
    client.disconnect()
    return outcome["reason"]


def test_tls_with_the_right_password_connects(secure_broker):
    broker, certs = secure_broker
    assert not _connect(broker.port, certs["ca"], "collector", "c0llect").is_failure


def test_wrong_password_is_refused(secure_broker):
    broker, certs = secure_broker
    assert _connect(broker.port, certs["ca"], "collector", "guess").is_failure


def test_plain_tcp_to_the_tls_listener_fails(secure_broker):
    broker, _ = secure_broker
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    with pytest.raises((ConnectionError, OSError, ssl.SSLError)):
        client.connect("127.0.0.1", broker.port)
        for _ in range(50):
            if client.loop(0.1) != mqtt.MQTT_ERR_SUCCESS:
                raise ConnectionError("broker closed the plain connection")
