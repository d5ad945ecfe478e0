"""The live alert board: the alerts retained on MQTT (`iotorino/alerts/#`), kept in memory for the pages.

`AlertBoard` is the state, pure and thread-safe: `post(topic, payload)` reads
a message by the alert contract (`iotorino.core.alerts.from_message`, its one
owner) and keeps the episodes going on (one per topic: the topic retains the
latest episode of a kind at a site) and the recently ended ones (the last
`keep_ended`, ended within `ended_days`). A message that cannot be read is
`Rejected`: counted by reason and kept among the last rejections (reason,
field and value shortened, never the whole payload), and the board goes on.

`AlertFeed` is the MQTT side: a paho client configured by the shared
`[mqtt]` settings (TLS, user, password from a file or the environment:
`iotorino.core.config.MqttClient`), subscribed at QoS 1 to the alert topics,
its network loop run under `iotorino.core.supervisor` (a crash is counted and
the loop restarted) and reconnecting by itself (1 s to 30 s). While the broker
is unreachable the board keeps what it knew and says since when it is not
updated; the pages say "alerts unavailable".
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass
from typing import Callable

from iotorino.core import alerts as contract
from iotorino.core.config import MqttClient, in_range, positive, setting
from iotorino.core.errors import Rejected

log = logging.getLogger(__name__)

TOPIC = f"{contract.TOPIC_PREFIX}/#"
QOS = 1
RECONNECT_S = (1, 30)  # paho's reconnect backoff, seconds
LAST_REJECTIONS = 20


@dataclass(frozen=True)
class AlertBoardSettings:
    """The `[alert_board]` table of the web settings file: what the board keeps."""

    keep_ended: int = setting(200, check=positive(10_000))
    """How many ended episodes the board keeps (the most recently received)."""
    ended_days: float = setting(7.0, check=in_range(0, 366))
    """Ended episodes are shown for this many days after their end (wall clock); 0: never."""


@dataclass(frozen=True)
class Posted:
    """An alert on the board: its scope (`city` or `school`), the episode, and the topic it came on."""

    scope: str
    alert: contract.Alert
    topic: str


@dataclass(frozen=True)
class Rejection:
    """A message the board could not read: when, on which topic, and why (value shortened)."""

    time_ns: int
    topic: str
    reason: str
    field: str | None
    value: str
    accepted: str | None


@dataclass(frozen=True)
class Snapshot:
    """What the board knows at one moment, for a page."""

    configured: bool
    connected: bool
    since_ns: int | None  # when the link last came up (connected) or went down / was first tried (not)
    active: tuple[Posted, ...]  # by rating (highest first), then newest start
    ended: tuple[Posted, ...]  # newest end first
    messages: int
    rejected: dict[str, int]
    last_rejections: tuple[Rejection, ...]  # newest first


class AlertBoard:
    """The episodes going on and the recently ended ones, from the retained alert messages."""

    def __init__(self, settings: AlertBoardSettings = AlertBoardSettings(), *,
                 clock: Callable[[], int] = time.time_ns) -> None:
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._active: dict[str, Posted] = {}  # topic -> the episode going on there
        self._ended: OrderedDict[str, Posted] = OrderedDict()  # episode id -> ended episode, oldest received first
        self._rejected: Counter[str] = Counter()
        self._rejections: deque[Rejection] = deque(maxlen=LAST_REJECTIONS)
        self._messages = 0
        self._connected = False
        self._since_ns: int | None = None

    def post(self, topic: str, payload: bytes) -> Posted | None:
        """Take one message from an alert topic; None when it clears the topic (empty retained payload).
        `Rejected` (counted and kept among the last rejections) when it cannot be read."""
        with self._lock:
            self._messages += 1
        if not payload:
            with self._lock:
                self._active.pop(topic, None)
            return None
        try:
            scope, alert = contract.from_message(topic, payload)
        except Rejected as exc:
            self._reject(topic, exc)
            raise
        posted = Posted(scope, alert, topic)
        with self._lock:
            if alert.active:
                self._active[topic] = posted
                self._ended.pop(alert.id, None)
            else:
                current = self._active.get(topic)
                if current is not None and current.alert.id == alert.id:
                    del self._active[topic]
                self._ended[alert.id] = posted
                self._ended.move_to_end(alert.id)
                while len(self._ended) > self.settings.keep_ended:
                    self._ended.popitem(last=False)
        return posted

    def _reject(self, topic: str, exc: Rejected) -> None:
        value = repr(exc.value)
        rejection = Rejection(self.clock(), topic[:200], exc.reason, exc.field,
                              value if len(value) <= 80 else value[:77] + "...", exc.accepted)
        with self._lock:
            self._rejected[exc.reason] += 1
            self._rejections.append(rejection)

    def count_error(self, reason: str) -> None:
        """Count a message that failed in an unexpected way (its reason only: nothing of the payload)."""
        with self._lock:
            self._rejected[reason] += 1

    def link(self, up: bool) -> None:
        """The feed's broker link came up or went down (or is being tried for the first time)."""
        with self._lock:
            if up != self._connected or self._since_ns is None:
                self._since_ns = self.clock()
            self._connected = up

    def snapshot(self, configured: bool = True) -> Snapshot:
        """The board now: active episodes by rating, ended ones newest first (within `ended_days`)."""
        horizon = self.clock() - int(self.settings.ended_days * 86_400e9)
        with self._lock:
            active = sorted(self._active.values(), key=lambda p: (-p.alert.rating, -p.alert.start_ns, p.alert.id))
            ended = sorted((p for p in self._ended.values() if p.alert.end_ns >= horizon),
                           key=lambda p: (-p.alert.end_ns, p.alert.id))
            return Snapshot(configured, self._connected, self._since_ns, tuple(active), tuple(ended),
                            self._messages, dict(self._rejected), tuple(reversed(self._rejections)))


class AlertFeed:
    """Feeds an `AlertBoard` from the broker: subscribe, post every message, reconnect by itself."""

    def __init__(self, board: AlertBoard, mqtt: MqttClient, *,
                 client_factory: Callable[[str], object] | None = None) -> None:
        self.board = board
        self.mqtt = mqtt
        client_id = mqtt.client_id or f"iotorino-web-alerts-{uuid.uuid4().hex[:8]}"
        self.client = (client_factory or _paho_client)(client_id)
        mqtt.configure_paho(self.client)
        self.client.reconnect_delay_set(*RECONNECT_S)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.subscribed = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._logged: set[tuple[str, str | None]] = set()
        self._refused: str | None = None  # why the broker last refused us, until a connection succeeds

    def start(self, supervisor) -> "AlertFeed":
        """Connect in the background and run paho's loop under `supervisor` (`iotorino.core.supervisor`)."""
        self.board.link(False)
        self._supervisor = supervisor
        supervisor.set_ready("alert-feed-broker", False, f"connecting to {self.mqtt.host}:{self.mqtt.port}")
        self.client.connect_async(self.mqtt.host, self.mqtt.port, self.mqtt.keepalive_s)
        self._thread = supervisor.spawn("alert-feed", self._network_loop, backoff_s=RECONNECT_S)
        return self

    def stop(self) -> None:
        """Disconnect and end the loop."""
        self._stop.set()
        self.client.disconnect()
        if self._thread is not None:
            self._thread.join(10)

    def _network_loop(self) -> None:
        while not self._stop.is_set():
            self.client.loop_forever(retry_first_connection=True)
            self._stop.wait(1.0)  # returned without `stop`: never spin

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:  # e.g. a wrong user or password: paho tries again with its backoff
            log.warning("alert board: the broker at %s:%d refused the connection: %s", self.mqtt.host,
                        self.mqtt.port, reason_code)
            self._refused = f"the broker refused the connection: {reason_code}"
            self._supervisor.set_ready("alert-feed-broker", False, self._refused)
            return
        self._refused = None
        client.subscribe(TOPIC, QOS)
        self.board.link(True)
        self._supervisor.set_ready("alert-feed-broker", True)
        self.subscribed.set()
        log.info("alert board: subscribed to %s on %s:%d", TOPIC, self.mqtt.host, self.mqtt.port)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.subscribed.clear()
        self.board.link(False)
        if not self._stop.is_set():
            self._supervisor.set_ready("alert-feed-broker", False, self._refused or (
                f"broker {self.mqtt.host}:{self.mqtt.port} unreachable; the board is not updated"))
            if self._refused is None:
                log.warning("alert board: broker link down (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, message) -> None:
        try:
            self.board.post(message.topic, message.payload)
        except Rejected as exc:
            key = (exc.reason, exc.field)
            if key not in self._logged:  # once per reason and field: a retained message comes back on reconnect
                self._logged.add(key)
                log.warning("alert board: message on %s rejected: %s", message.topic[:200], exc.describe())
        except Exception as exc:  # noqa: BLE001 - a message must never end the subscriber (nor loop it on reconnect)
            self.board.count_error("unexpected_error")
            log.error("alert board: message on %s failed: %s", message.topic[:200], type(exc).__name__)


def _paho_client(client_id: str):
    import paho.mqtt.client as mqtt

    return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
