"""MQTT helpers shared by the tests and the benchmarks: a persistent session prepared before its collector runs."""

from __future__ import annotations

import threading

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def prepare_session(port: int, client_id: str, topic: str = "iotorino/v1/#") -> None:
    """Create the collector's persistent session, so the broker queues messages before it first runs."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 3600
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect("127.0.0.1", port, clean_start=False, properties=properties)
    client.loop_start()
    try:
        client.subscribe(topic, 1)
        if not subscribed.wait(10):
            raise TimeoutError(f"broker on port {port} did not confirm the subscription of {client_id}")
    finally:
        client.disconnect()
        client.loop_stop()
