"""Dead letters: every rejected message, kept with its reason so an operator can see and replay it.

A SQLite file (WAL mode). A message is committed here before it is
acknowledged to the broker, so a rejection never loses the original bytes.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from iotorino.errors import Rejected

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
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def add(self, topic: str, payload: bytes, rejection: Rejected, received_ns: int | None = None) -> int:
        """Store one rejected message durably; returns its id."""
        cursor = self._db.execute(
            "INSERT INTO deadletters (received_ns, topic, payload, reason, detail, field) VALUES (?, ?, ?, ?, ?, ?)",
            (received_ns or time.time_ns(), topic, bytes(payload), rejection.reason, rejection.describe(),
             rejection.field),
        )
        return cursor.lastrowid

    def list(self, reason: str | None = None, include_replayed: bool = False) -> Iterator[DeadLetter]:
        """Dead letters, oldest first, optionally only those of one reason."""
        query = "SELECT * FROM deadletters WHERE 1=1"
        args: list = []
        if reason:
            query += " AND reason = ?"
            args.append(reason)
        if not include_replayed:
            query += " AND replayed_ns IS NULL"
        for row in self._db.execute(query + " ORDER BY id", args):
            yield DeadLetter(*row)

    def get(self, letter_id: int) -> DeadLetter | None:
        """One dead letter by id."""
        row = self._db.execute("SELECT * FROM deadletters WHERE id = ?", (letter_id,)).fetchone()
        return DeadLetter(*row) if row else None

    def mark_replayed(self, letter_id: int) -> None:
        """Record that a replay stored this message."""
        self._db.execute("UPDATE deadletters SET replayed_ns = ? WHERE id = ?", (time.time_ns(), letter_id))

    def count_by_reason(self) -> dict[str, int]:
        """Not-yet-replayed dead letters per reason."""
        rows = self._db.execute(
            "SELECT reason, count(*) FROM deadletters WHERE replayed_ns IS NULL GROUP BY reason ORDER BY reason")
        return dict(rows.fetchall())

    def close(self) -> None:
        """Close the database."""
        self._db.close()
