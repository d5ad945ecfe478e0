"""From one MQTT message to validated readings and set-aside values, or one rejection: the collector's pure heart.

Used by the collector for live messages (`encode`: straight to line
protocol, through the native fast path when it applies), by `iotorino decode`
to explain a message (`decode`), and by the dead-letter replay.

A message is rejected whole (`Rejected` raised) when it cannot be read: its
topic, encoding, shape, device or time. Its fields are checked one by one
(iotorino.core.catalogue, field-level quarantine): the valid ones are kept
and each invalid value comes back as a `Rejected` beside them, for the dead
letters, unless the measurement's catalogue entry says `reject_message`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ingest.mqtt import fastpath
from ingest.mqtt.fastpath import TopicPlan, device_label
from ingest.mqtt.formats import FORMATS, DecodeContext
from iotorino.core.times import check_window
from iotorino.core.catalogue import Catalogue
from iotorino.core.errors import Rejected
from iotorino.core.inventory import Inventory
from iotorino.core.lineprotocol import encode_batch
from iotorino.core.reading import Reading

# Topics whose fast-path plan is kept; past this the plans are dropped and compiled again as messages come.
MAX_PLANS = 65_536
_GENERIC = None  # a topic with no plan: another format, or a topic the pipeline rejects
_tuple_new = tuple.__new__


@dataclass(frozen=True)
class Limits:
    """Bounds a message must respect. Seconds for times, bytes for sizes."""

    max_payload_bytes: int = 65_536
    max_future_s: float = 600.0
    max_past_s: float = 30 * 86_400.0


@dataclass(frozen=True, slots=True)
class Decoded:
    """What a message yields: the readings to store and the values set aside (one `Rejected` per invalid field)."""

    readings: list[Reading]
    rejected: tuple[Rejected, ...] = ()


class Encoded(NamedTuple):
    """What the collector keeps of a message: line protocol, number of readings, newest device time in ns,
    device label, and the values set aside (one `Rejected` per invalid field, for the dead letters)."""

    lines: bytes
    count: int
    time_ns: int
    device: str
    rejected: tuple[Rejected, ...] = ()


@dataclass(frozen=True)
class Route:
    """A topic filter (MQTT wildcards + and #) and the payload format of the topics it matches."""

    topic: str
    format: str

    def matches(self, topic: str) -> bool:
        """True when `topic` matches this route's MQTT filter."""
        return topic_matches(self.topic, topic)


class Pipeline:
    """Decode with the route's format, then validate against catalogue and time window."""

    def __init__(self, routes: list[Route], catalogue: Catalogue, inventory: Inventory, limits: Limits) -> None:
        self.routes = routes
        self.catalogue = catalogue
        self.inventory = inventory
        self.limits = limits
        self._plans: dict[str, TopicPlan | None] = {}
        self._future_ns = int(limits.max_future_s * 1e9)
        self._past_ns = int(limits.max_past_s * 1e9)

    def format_for(self, topic: str) -> str:
        """The format of the first route matching `topic`."""
        for route in self.routes:
            if route.matches(topic):
                return route.format
        raise Rejected("unknown_topic", "no subscription route matches the topic", field="topic", value=topic,
                       accepted=", ".join(r.topic for r in self.routes))

    def decode(self, topic: str, payload: bytes, received_ns: int, fmt: str | None = None) -> Decoded:
        """Validated readings of one message and its values set aside; raises `Rejected` for the whole message."""
        if len(payload) > self.limits.max_payload_bytes:
            raise Rejected("oversized", "payload larger than the limit", field="payload",
                           value=f"{len(payload)} bytes", accepted=f"up to {self.limits.max_payload_bytes} bytes")
        decoder = FORMATS[fmt or self.format_for(topic)]
        readings = decoder(topic, payload, DecodeContext(self.catalogue, self.inventory, received_ns))
        checked = [self.catalogue.check(r) for r in readings]
        for reading in readings:
            if not reading.time_is_fallback:
                check_window(reading.time_ns, received_ns, self.limits.max_future_s, self.limits.max_past_s)
        return Decoded([c.reading for c in checked], tuple(r for c in checked for r in c.rejected))

    def process(self, topic: str, payload: bytes, received_ns: int, fmt: str | None = None) -> list[Reading]:
        """Validated readings of one message, all or nothing: raises `Rejected` for the whole message or for
        its first invalid field (replays and tests that want no partial result)."""
        decoded = self.decode(topic, payload, received_ns, fmt)
        if decoded.rejected:
            raise decoded.rejected[0]
        return decoded.readings

    def encode(self, topic: str, payload: bytes, received_ns: int) -> Encoded | None:
        """What the collector keeps of a message (`Encoded`); None when it carries no readings.
        Raises `Rejected` like `decode`."""
        try:
            plan = self._plans[topic]
        except KeyError:
            plan = self._compile(topic)
        if plan is not _GENERIC and len(payload) <= self.limits.max_payload_bytes:
            encoded = fastpath.encode(plan, payload, received_ns - self._past_ns, received_ns + self._future_ns)
            if encoded is not None:
                # tuple.__new__: a NamedTuple's own constructor costs a Python call per message on the hot path.
                return _tuple_new(Encoded, (encoded[0], 1, encoded[1], plan.device, ()))
        decoded = self.decode(topic, payload, received_ns)
        readings = decoded.readings
        if not readings:
            return None
        return Encoded(encode_batch(readings), len(readings), max(r.time_ns for r in readings),
                       device_label(readings[0].tags), decoded.rejected)

    def _compile(self, topic: str) -> TopicPlan | None:
        plan = _GENERIC
        try:
            if self.format_for(topic) == "native":
                plan = fastpath.compile_topic(topic, self.catalogue, self.inventory)
        except Rejected:
            pass  # the generic path raises it again, for each message
        if len(self._plans) >= MAX_PLANS:
            self._plans.clear()
        self._plans[topic] = plan
        return plan


def topic_matches(pattern: str, topic: str) -> bool:
    """MQTT filter matching (`+` one level, `#` the rest); `$share/<group>/` prefixes are ignored."""
    if pattern.startswith("$share/"):
        pattern = pattern.split("/", 2)[2]
    p_parts, t_parts = pattern.split("/"), topic.split("/")
    for i, part in enumerate(p_parts):
        if part == "#":
            return True
        if i >= len(t_parts) or (part != "+" and part != t_parts[i]):
            return False
    return len(p_parts) == len(t_parts)
