"""Dead letters: every rejected message, kept with its reason so an operator can see and replay it.

A SQLite file (WAL mode). A message is committed here before it is
acknowledged to the broker, so a rejection never loses the original bytes.

Storing never fails on content: the payload is kept as received (a BLOB), and
every text (topic, reason, detail, field) is made safe for SQLite's UTF-8
codec first, since a rejection can quote what the message held, e.g. a JSON
key written as a lone surrogate escape `"\\ud800"` that a JSON decoder turns
into a string no UTF-8 encoder accepts. Such characters are kept as
backslash escapes (`\\ud800`). What can still fail is the file itself
(disk full, I/O error): `sqlite3.OperationalError`, which the collector
treats as "no room" (ingest.mqtt.delivery).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from iotorino.core.sqlitefile import open_durable, transaction
from iotorino.core.errors import Rejected

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deadletters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_ns INTEGER NOT NULL,      -- collector clock, epoch nanoseconds
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    reason TEXT NOT NULL,              -- stable code, e.g. out_of_range
    detail TEXT NOT NULL,              -- the full operator-facing sentence
    field TEXT,
    replayed_ns INTEGER                -- set once a replay stored it
);
CREATE INDEX IF NOT EXISTS deadletters_reason ON deadletters (reason);
"""


_INSERT = "INSERT INTO deadletters (received_ns, topic, payload, reason, detail, field) VALUES (?, ?, ?, ?, ?, ?)"


def safe_text(text: object) -> str:
    """`text` as a string any UTF-8 encoder takes: lone surrogates (and other unencodable characters)
    become backslash escapes; everything else is unchanged."""
    text = str(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _row(topic: str, payload: bytes, rejection: Rejected, received_ns: int | None) -> tuple:
    field = None if rejection.field is None else safe_text(rejection.field)
    return (received_ns or time.time_ns(), safe_text(topic), bytes(payload), safe_text(rejection.reason),
            safe_text(rejection.describe()), field)


@dataclass(frozen=True)
class DeadLetter:
    """One rejected message as stored."""

    id: int
    received_ns: int
    topic: str
    payload: bytes
    reason: str
    detail: str
    field: str | None
    replayed_ns: int | None


class DeadLetterStore:
    """Append-mostly store of rejected messages."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()  # the collector's writer and drainer threads share the connection
        self._db = open_durable(self.path, _SCHEMA)

    def add(self, topic: str, payload: bytes, rejection: Rejected, received_ns: int | None = None) -> int:
        """Store one rejected message durably; returns its id."""
        with self._lock:
            cursor = self._db.execute(_INSERT, _row(topic, payload, rejection, received_ns))
            return cursor.lastrowid

    def add_many(self, letters: Sequence[tuple[str, bytes, Rejected, int]]) -> None:
        """Store (topic, payload, rejection, received_ns) tuples durably, in one transaction."""
        if not letters:
            return
        with self._lock:
            with transaction(self._db):
                self._db.executemany(_INSERT, [_row(*letter) for letter in letters])

    def list(self, reason: str | None = None, include_replayed: bool = False) -> Iterator[DeadLetter]:
        """Dead letters, oldest first, optionally only those of one reason."""
        query = "SELECT * FROM deadletters WHERE 1=1"
        args: list = []
        if reason:
            query += " AND reason = ?"
            args.append(reason)
        if not include_replayed:
            query += " AND replayed_ns IS NULL"
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        for row in rows:
            yield DeadLetter(*row)

    def get(self, letter_id: int) -> DeadLetter | None:
        """One dead letter by id."""
        with self._lock:
            row = self._db.execute("SELECT * FROM deadletters WHERE id = ?", (letter_id,)).fetchone()
        return DeadLetter(*row) if row else None

    def mark_replayed(self, letter_id: int) -> None:
        """Record that a replay stored this message."""
        with self._lock:
            self._db.execute("UPDATE deadletters SET replayed_ns = ? WHERE id = ?", (time.time_ns(), letter_id))

    def count_by_reason(self) -> dict[str, int]:
        """Not-yet-replayed dead letters per reason."""
        with self._lock:
            rows = self._db.execute(
                "SELECT reason, count(*) FROM deadletters WHERE replayed_ns IS NULL GROUP BY reason ORDER BY reason")
            return dict(rows.fetchall())

    def close(self) -> None:
        """Close the database."""
        self._db.close()
