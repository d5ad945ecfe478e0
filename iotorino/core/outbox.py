"""The durable outbox: MQTT messages kept in SQLite until the broker acknowledges them (QoS 1).

Every message is first written to a SQLite outbox (WAL, fsync per commit),
then published with QoS 1, oldest first; the row is deleted only when the
broker's PUBACK arrives. While the broker is unreachable the outbox grows,
and it drains when the link returns (also after a restart of the process),
still oldest first: row ids are never reused. Delivery is at-least-once: a
message whose PUBACK was lost is sent again, which InfluxDB absorbs (same
series, same time).

The sender that publishes the outbox over MQTT is `iotorino.publisher.Publisher`
(paho), kept out of the core so that the core carries no MQTT client library.
Used by the BLE gateway (sightings, heartbeats) and the beacon health monitor
(status changes); the MQTT topics themselves are the callers' business.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from iotorino.core.sqlitefile import open_durable, transaction


_OUTBOX = ("CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL,"
           " payload BLOB NOT NULL, retain INTEGER NOT NULL)")


@dataclass(frozen=True)
class Message:
    """One MQTT message to publish with QoS 1."""

    topic: str
    payload: bytes
    retain: bool = False


class Outbox:
    """A SQLite outbox of messages, oldest first; safe to use from several threads.

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
        """Up to `limit` messages with ids above `after_id`, oldest first."""
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
