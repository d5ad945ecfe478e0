"""Durable SQLite files (collector spool, dead letters, BLE gateway outbox): WAL journal, fsync per commit."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def open_durable(path: Path, schema: str) -> sqlite3.Connection:
    """Open (creating the directory and tables) a file whose commits survive kill -9 and power loss."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(schema)
    return db


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction: committed (durably) on success, rolled back on any exception."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")  # inside: a COMMIT refused (disk full) must not leave the transaction open
    except BaseException:
        if db.in_transaction:  # SQLite may have rolled back already (e.g. on "database or disk is full")
            db.execute("ROLLBACK")
        raise
