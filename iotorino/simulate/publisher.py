"""The thin publisher: pace the generator's messages against the wall clock and send them with QoS 1.

`publish_messages` does the pacing and the counting with the outside world
passed in (a `send` function, the clock, `sleep`); `MqttSender` is the paho
side (QoS 1, at most `max_inflight` messages awaiting their PUBACK); and
`simulate` wires the fleet, the generator and a broker together for the CLI
and the demo.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable

from iotorino.core.config import MqttClient
from iotorino.core.errors import PermanentError, TransientError
from iotorino.simulate import faults
from iotorino.simulate.generator import SimMessage, iter_messages
from iotorino.simulate.period import parse_speed, to_ms

QOS = 1
MAX_INFLIGHT = 100  # messages awaiting PUBACK; more only adds latency on loopback
CONNECT_TIMEOUT_S = 10.0
FLUSH_TIMEOUT_S = 60.0


@dataclass
class SimSummary:
    """What a simulation run did: messages generated and published, faults injected by kind."""

    generated: int = 0
    published: int = 0  # sent and acknowledged by the broker (missing ones are never sent)
    faults_by_kind: Counter = field(default_factory=Counter)
    wall_seconds: float = 0.0
    first_time: datetime | None = None
    last_time: datetime | None = None

    @property
    def expected_rejections(self) -> int:
        """Published messages the collector must reject into the dead letters (out of range, malformed)."""
        return sum(self.faults_by_kind[kind] for kind in faults.REJECTED_KINDS)

    @property
    def rate_per_s(self) -> float:
        """Messages published per wall-clock second."""
        return self.published / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def describe(self) -> str:
        """One operator-facing paragraph."""
        kinds = ", ".join(f"{kind} {self.faults_by_kind[kind]}" for kind in faults.KINDS) or "none"
        return (
            f"published {self.published} of {self.generated} messages in {self.wall_seconds:.1f} s "
            f"({self.rate_per_s:.0f} msg/s); faults injected: {kinds}; "
            f"the collector should reject {self.expected_rejections}"
        )


def publish_messages(
    messages: Iterable[SimMessage],
    send: Callable[[str, bytes], None],
    start: datetime,
    speed: float | None,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    on_progress: Callable[[SimSummary], None] | None = None,
    progress_every: int = 50000,
) -> SimSummary:
    """Send each message when its simulated time comes at `speed` (simulated s per wall s; None: no waiting).

    Messages with the `missing` fault are counted, not sent.
    """
    summary = SimSummary()
    start_ms = to_ms(start)
    wall0 = clock()
    for message in messages:
        summary.generated += 1
        summary.first_time = summary.first_time or message.sim_time
        summary.last_time = message.sim_time
        if message.fault:
            summary.faults_by_kind[message.fault] += 1
        if speed is not None:
            due = wall0 + (to_ms(message.sim_time) - start_ms) / 1000 / speed
            ahead = due - clock()
            if ahead > 0.001:
                sleep(ahead)
        if message.fault != faults.MISSING:
            send(message.topic, message.payload)
            summary.published += 1
        if on_progress and summary.generated % progress_every == 0:
            summary.wall_seconds = clock() - wall0
            on_progress(summary)
    summary.wall_seconds = clock() - wall0
    return summary


class MqttSender:
    """A paho-mqtt 2.x client publishing with QoS 1, at most `max_inflight` messages unacknowledged.

    The network loop runs in the caller's thread (`client.loop`), not in
    paho's background thread: on this 2-core machine that doubles the rate
    (no GIL hand-offs per acknowledgement). `wait` services the connection
    while the publisher paces itself.
    """

    def __init__(self, host: str, port: int, *, client_id: str | None = None, max_inflight: int = MAX_INFLIGHT,
                 client_factory: Callable[..., object] | None = None, clock: Callable[[], float] = time.monotonic,
                 mqtt_settings: MqttClient | None = None) -> None:
        import paho.mqtt.client as mqtt

        self.host, self.port, self.max_inflight, self.clock = host, port, max_inflight, clock
        factory = client_factory or mqtt.Client
        self.client = factory(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"iotorino-sim-{uuid.uuid4().hex[:8]}")
        if mqtt_settings is not None:  # credentials and TLS of the shared [mqtt] section
            mqtt_settings.configure_paho(self.client)
        self.client.max_inflight_messages_set(max_inflight)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self._connect_result: str | None = None
        self._inflight = 0
        self.acknowledged = 0

    def __enter__(self) -> "MqttSender":
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise TransientError(f"cannot connect to the MQTT broker at {self.host}:{self.port}: {exc}") from exc
        deadline = self.clock() + CONNECT_TIMEOUT_S
        while self._connect_result is None and self.clock() < deadline:
            self.client.loop(0.1)
        if self._connect_result != "Success":
            raise TransientError(
                f"MQTT broker at {self.host}:{self.port} did not accept the connection: {self._connect_result or 'no CONNACK'}"
            )
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            if exc_info[0] is None:
                self.flush()
        finally:
            self.client.disconnect()

    def send(self, topic: str, payload: bytes) -> None:
        """Publish with QoS 1; services the connection while `max_inflight` messages await their PUBACK."""
        while self._inflight >= self.max_inflight:
            self.client.loop(0.05)
        info = self.client.publish(topic, payload, qos=QOS)
        if info.rc not in (0, 4):  # success, or no connection right now (paho keeps it and resends)
            raise PermanentError(f"paho refused to publish on {topic!r}: rc={info.rc}")
        self._inflight += 1

    def wait(self, seconds: float) -> None:
        """Let `seconds` pass while reading acknowledgements and keeping the connection alive."""
        deadline = self.clock() + seconds
        while (left := deadline - self.clock()) > 0:
            self.client.loop(min(left, 0.5))

    def flush(self, timeout: float = FLUSH_TIMEOUT_S) -> None:
        """Wait until the broker has acknowledged every message sent."""
        deadline = self.clock() + timeout
        while self._inflight > 0:
            if self.clock() > deadline:
                raise TransientError(f"{self._inflight} messages still unacknowledged after {timeout:.0f} s")
            self.client.loop(0.05)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connect_result = "Success" if not reason_code.is_failure else str(reason_code)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._inflight -= 1
        self.acknowledged += 1


def simulate(
    broker_host: str,
    broker_port: int,
    start: datetime,
    end: datetime,
    speed: float | str | None,
    seed: int,
    fault_rate: float = 0.0,
    *,
    inventory=None,
    catalogue=None,
    on_progress: Callable[[SimSummary], None] | None = None,
    mqtt_settings: MqttClient | None = None,
    progress_every: int = 50000,
) -> SimSummary:
    """Publish the fleet's messages for [start, end) to the broker; the default inventory and catalogue if none given.

    `speed`: simulated seconds per wall-clock second, None or "max" for as fast as possible;
    `on_progress` receives the running summary every `progress_every` messages.
    """
    if isinstance(speed, str):
        speed = parse_speed(speed)
    if inventory is None:
        from iotorino.core import inventory as fleet

        inventory = fleet.default()
    if catalogue is None:
        from iotorino.core import catalogue as measurement_catalogue

        catalogue = measurement_catalogue.default()
    messages = iter_messages(inventory, catalogue, start, end, seed, fault_rate)
    began = time.monotonic()
    with MqttSender(broker_host, broker_port, mqtt_settings=mqtt_settings) as sender:
        summary = publish_messages(messages, sender.send, start, speed, sleep=sender.wait, on_progress=on_progress,
                                   progress_every=progress_every)
        sender.flush()
    summary.wall_seconds = time.monotonic() - began  # including the wait for the last PUBACKs
    return summary
