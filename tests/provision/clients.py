"""Small MQTT v5 clients for the security tests: what the broker answers to CONNECT, PUBLISH, SUBSCRIBE."""

from __future__ import annotations

import ssl
import threading
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt

TIMEOUT_S = 10


class Session:
    """A connected (or refused) client; `connect_reason` is the CONNACK's reason code."""

    def __init__(self, port: int, ca: Path, user: str | None = None, password: str | None = None,
                 cert: tuple[Path, Path] | None = None) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}",
                                  protocol=mqtt.MQTTv5)
        self.client.tls_set(ca_certs=str(ca), certfile=cert and str(cert[0]), keyfile=cert and str(cert[1]))
        if user is not None:
            self.client.username_pw_set(user, password)
        self._connected = threading.Event()
        self._acks: dict[int, object] = {}
        self._acked = threading.Condition()
        self.messages: list[mqtt.MQTTMessage] = []
        self.connect_reason = None
        self.client.on_connect = self._on_connect
        # A connection closed before any CONNACK (a refused client certificate) ends the wait too.
        self.client.on_disconnect = lambda *_: self._connected.set()
        self.client.on_publish = lambda c, u, mid, reason, p: self._ack(mid, reason)
        self.client.on_subscribe = lambda c, u, mid, reasons, p: self._ack(mid, reasons)
        self.client.on_message = lambda c, u, message: self.messages.append(message)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not self._connected.wait(TIMEOUT_S):
            self.close()
            raise TimeoutError("no CONNACK")

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        self.connect_reason = reason
        self._connected.set()

    def _ack(self, mid: int, reason) -> None:
        with self._acked:
            self._acks[mid] = reason
            self._acked.notify_all()

    def _wait(self, mid: int):
        with self._acked:
            assert self._acked.wait_for(lambda: mid in self._acks, TIMEOUT_S), "no acknowledgement"
            return self._acks.pop(mid)

    @property
    def accepted(self) -> bool:
        """Whether the broker accepted the connection."""
        return self.connect_reason is not None and not self.connect_reason.is_failure

    def publish(self, topic: str, payload: bytes = b"{}") -> bool:
        """Publish at QoS 1; True when the PUBACK reports success (0x87 "not authorized" otherwise)."""
        info = self.client.publish(topic, payload, qos=1)
        return not self._wait(info.mid).is_failure

    def subscribe(self, topic: str) -> bool:
        """Subscribe at QoS 1; True when the SUBACK grants it."""
        _, mid = self.client.subscribe(topic, qos=1)
        return not self._wait(mid)[0].is_failure

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        self.client.disconnect()
        self.client.loop_stop()


def connects(port: int, ca: Path, user: str | None = None, password: str | None = None,
             cert: tuple[Path, Path] | None = None) -> bool:
    """Whether the broker accepts a connection with these credentials (False also when TLS refuses it)."""
    try:
        session = Session(port, ca, user, password, cert)
    except (ssl.SSLError, OSError, TimeoutError):
        return False
    try:
        return session.accepted
    finally:
        session.close()


def device_user(topic: str) -> str:
    """The broker user a native topic belongs to (the ACL lets no one else publish it)."""
    parts = topic.split("/")
    return parts[3] if parts[2] == "street" else f"{parts[3]}.{parts[4]}"


def publish_as_devices(port: int, ca: Path, secrets, messages) -> None:
    """Publish every message (QoS 1) as the device it belongs to, each over its own TLS session with its
    own credential, and wait until the broker has acknowledged each device's last message."""
    sessions = {user: Session(port, ca, user, secrets.devices([user])[user])
                for user in {device_user(m.topic) for m in messages}}
    try:
        last = {}
        for message in messages:
            user = device_user(message.topic)
            last[user] = sessions[user].client.publish(message.topic, message.payload, qos=1)
        for info in last.values():
            info.wait_for_publish(30)
            assert info.is_published()
    finally:
        for session in sessions.values():
            session.close()
