"""The broker link: readings become native IoTorino MQTT messages, spooled on disk until acknowledged.

Every message is first written to a SQLite spool (WAL, fsync per commit),
then published with QoS 1, oldest first; the row is deleted only when the
broker's PUBACK arrives. While the broker is unreachable the spool grows,
and it drains when the link returns (also after a restart of the gateway),
still oldest first: row ids are never reused. Delivery is at-least-once: a message whose PUBACK
was lost is sent again, which InfluxDB absorbs (same series, same time).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import paho.mqtt.client as mqtt

from iotorino.core import contract
from iotorino.core.reading import Reading
from iotorino.core.sqlitefile import open_durable, transaction

log = logging.getLogger(__name__)

# Unacknowledged messages handed to paho at once; the rest wait in the spool.
MAX_IN_FLIGHT = 200
_OUTBOX = ("CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL,"
           " payload BLOB NOT NULL, retain INTEGER NOT NULL)")


@dataclass(frozen=True)
class Message:
    """One MQTT message to publish with QoS 1."""

    topic: str
    payload: bytes
    retain: bool = False


def reading_message(reading: Reading) -> Message:
    """The native message of a reading about a beacon (`iotorino/v1/beacon/{beacon}/{gateway}/{measurement}`)
    or about the gateway itself (`iotorino/v1/gateway/{gateway}/{measurement}`)."""
    tags = reading.tags
    topic = (contract.beacon_topic(tags["beacon"], tags["gateway"], reading.measurement) if "beacon" in tags
             else contract.gateway_topic(tags["gateway"], reading.measurement))
    return Message(topic, contract.encode(reading.fields, reading.time_ns))


class Spool:
    """A SQLite outbox of messages, oldest first; safe to use from paho's thread and ours.

    Row ids are AUTOINCREMENT: never reused, not even after the outbox was
    emptied or the file reopened, so "every row above the last one sent" is
    always exactly the messages not yet handed to paho. (With a plain
    INTEGER PRIMARY KEY SQLite gives an emptied table id 1 again, and the
    sender skipped those rows until their ids passed the last one it sent.)
    """

    def __init__(self, path: Path) -> None:
        self._db = open_durable(path, "")
        self._lock = threading.Lock()
        with transaction(self._db):
            _create_outbox(self._db)

    def put(self, messages: Iterable[Message]) -> None:
        """Append `messages` in one transaction; durable (fsync) on return."""
        rows = [(m.topic, m.payload, int(m.retain)) for m in messages]
        with self._lock, transaction(self._db):
            self._db.executemany("INSERT INTO outbox (topic, payload, retain) VALUES (?, ?, ?)", rows)

    def oldest(self, limit: int, after_id: int) -> list[tuple[int, Message]]:
        """Up to `limit` spooled messages with ids above `after_id`, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT id, topic, payload, retain FROM outbox WHERE id > ? ORDER BY id LIMIT ?",
                                    (after_id, limit)).fetchall()
        return [(row[0], Message(row[1], bytes(row[2]), bool(row[3]))) for row in rows]

    def delete(self, row_id: int) -> None:
        """Forget a message the broker acknowledged."""
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE id = ?", (row_id,))

    def count(self) -> int:
        """Messages waiting for the broker."""
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


def _create_outbox(db: sqlite3.Connection) -> None:
    """Create the outbox, or move the rows of an outbox from before AUTOINCREMENT into a new one."""
    found = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'outbox'").fetchone()
    if found is not None and "AUTOINCREMENT" in found[0].upper():
        return
    if found is not None:
        db.execute("ALTER TABLE outbox RENAME TO outbox_before_autoincrement")
    db.execute(_OUTBOX)
    if found is not None:
        db.execute("INSERT INTO outbox (id, topic, payload, retain)"
                   " SELECT id, topic, payload, retain FROM outbox_before_autoincrement ORDER BY id")
        db.execute("DROP TABLE outbox_before_autoincrement")


def paho_client(client_id: str) -> mqtt.Client:
    """A paho 2.x client; the spool, not a broker session, is what makes publishing durable."""
    return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)


class Publisher:
    """Publishes spooled messages with QoS 1 whenever the broker link is up.

    One sender thread owns the paho publish calls and the mid -> row map;
    paho's callbacks only queue acknowledgements and wake it (calling back
    into paho from its own callbacks would deadlock on paho's locks).
    """

    def __init__(self, host: str, port: int, client_id: str, spool: Spool, *, keepalive_s: int = 30,
                 client_factory: Callable[[str], mqtt.Client] = paho_client) -> None:
        self.spool = spool
        self._host, self._port, self._keepalive = host, port, keepalive_s
        self._client = client_factory(client_id)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._client.reconnect_delay_set(1, 30)
        self._acked: deque[int] = deque()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._sender = threading.Thread(target=self._send_loop, name="ble-publisher", daemon=True)
        self.connected = threading.Event()

    def start(self) -> None:
        """Connect in the background (paho reconnects by itself) and start the sender."""
        self._client.connect_async(self._host, self._port, self._keepalive)
        self._client.loop_start()
        self._sender.start()

    def publish(self, messages: Iterable[Message]) -> None:
        """Spool `messages` durably; the sender sends them when the link allows."""
        messages = list(messages)
        if messages:
            self.spool.put(messages)
            self._wake.set()

    def stop(self, timeout_s: float = 10.0) -> int:
        """Wait up to `timeout_s` for the spool to drain, then disconnect; returns messages left spooled."""
        deadline = time.monotonic() + timeout_s
        while self.spool.count() and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.05)
        self._stopping.set()
        self._wake.set()
        if self._sender.is_alive():
            self._sender.join()
        self._client.disconnect()
        self._client.loop_stop()
        left = self.spool.count()
        if left:
            log.warning("stopping with %d messages still spooled; they are sent at the next start", left)
        return left

    def _send_loop(self) -> None:
        in_flight: dict[int, int] = {}  # paho mid -> spool row id
        last_sent_id = 0
        while not self._stopping.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            while self._acked:
                row_id = in_flight.pop(self._acked.popleft(), None)
                if row_id is not None:
                    self.spool.delete(row_id)
            room = MAX_IN_FLIGHT - len(in_flight)
            if not self.connected.is_set() or room <= 0:
                continue
            for row_id, message in self.spool.oldest(room, last_sent_id):
                info = self._client.publish(message.topic, message.payload, qos=1, retain=message.retain)
                # NO_CONN: the link dropped meanwhile; paho keeps the QoS 1
                # message and sends it on reconnect, so it is in flight too.
                if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                    break
                in_flight[info.mid] = row_id
                last_sent_id = row_id

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker refused the connection: %s", reason_code)
            return
        # Messages in flight on the old link keep their mids: paho sends them
        # again on this link and their PUBACKs delete them from the spool.
        self.connected.set()
        self._wake.set()
        log.info("broker link up (%s:%d)", self._host, self._port)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        if not self._stopping.is_set():
            log.warning("broker link down (%s); spooling", reason_code)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._acked.append(mid)
        self._wake.set()
