"""The collector's session interface on paho-mqtt (manual_ack), to measure what the hand-written session buys.

Same callbacks and methods as `ingest.mqtt.session.MqttSession` (persistent
session, QoS 1, acknowledgement only when the collector says the message is
durable), but every message reaches the collector on its own, as paho delivers them.
"""

from __future__ import annotations

import threading
from typing import Callable, Sequence

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest.mqtt.config import MqttSettings


class PahoSession:
    """A paho client behind the collector's session interface."""

    def __init__(self, settings: MqttSettings, filters: Sequence[str]) -> None:
        self.settings = settings
        self.filters = list(filters)
        self.generation = 0
        self.on_connect: Callable[[bool], None] = lambda session_present: None
        self.on_subscribed: Callable[[list[str]], None] = lambda failures: None
        self.on_disconnect: Callable[[str], None] = lambda reason: None
        self.on_messages: Callable[[int, list[tuple[int, str, bytes]]], None] = lambda generation, batch: None
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=settings.client_id,
                                   protocol=mqtt.MQTTv5, manual_ack=True)
        self._client.max_inflight_messages_set(settings.receive_maximum)
        self._client.on_connect = self._connected
        self._client.on_subscribe = lambda client, userdata, mid, codes, props: self.on_subscribed(
            [str(c) for c in codes if c.is_failure])
        self._client.on_disconnect = lambda client, userdata, flags, reason, props: self.on_disconnect(str(reason))
        self._client.on_message = self._message
        self._lock = threading.Lock()

    def _connected(self, client, userdata, flags, reason, properties) -> None:
        self.generation += 1
        self.on_connect(bool(flags.session_present))
        client.subscribe([(f, 1) for f in self.filters])

    def _message(self, client, userdata, message) -> None:
        self.on_messages(self.generation, [(message.mid if message.qos else 0, message.topic, message.payload)])

    def start(self, supervisor=None) -> None:
        """Connect with a persistent session and run paho's network loop in its own thread (paho supervises it;
        `supervisor` is accepted for the collector's session interface)."""
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.settings.session_expiry_s
        properties.ReceiveMaximum = self.settings.receive_maximum
        self._client.connect(self.settings.host, self.settings.port, keepalive=self.settings.keepalive_s,
                             clean_start=False, properties=properties)
        self._client.loop_start()

    def ack(self, generation: int, packet_ids: Sequence[int]) -> None:
        """PUBACK each message of the current connection."""
        if generation != self.generation:
            return
        with self._lock:
            for pid in packet_ids:
                if pid:
                    self._client.ack(pid, 1)

    def reconnect(self) -> None:
        """Drop the connection; paho reconnects."""
        self._client.reconnect()

    def stop(self) -> None:
        """Disconnect; the session stays with the broker."""
        self._client.disconnect()
        self._client.loop_stop()
