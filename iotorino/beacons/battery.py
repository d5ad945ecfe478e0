"""The hourly battery history the monitor keeps beside its status spool: 60 days read back in well under a second.

The battery trend needs, per beacon, the last TLM voltage of each of the
last 60 days' hours. Asked of the raw sightings (`SELECT last("battery_mv")
... GROUP BY time(1h), "beacon"`) that is every sighting of 60 days: 9 s for
one point per beacon and hour, and hours for a full fleet's 1,200 a beacon
and hour. So the monitor keeps the answer: a SQLite file (`[monitor]
battery_history`) of one row per beacon and closed hour, the very values of
that query (time = the hour's start, mV = its last voltage), computed by
InfluxDB for each hour once it has closed (stored per beacon as packed
arrays: 60 days of 500 beacons read in a fraction of a second).

- Kept up to date: while the monitor runs it asks the store every
  `REFRESH_S` for the hours since the file's coverage, plus the `LATE_H`
  hours before (late windows a gateway's spool delivered), and writes them
  with the new coverage in one transaction.
- At a restart the restore reads the file for the hours it covers and asks
  the store only for the rest (the hours it was down, the partial hour before
  the replayed span), then records those too.
- An older installation, a lost file, or a file written for another
  database: nothing is covered, so the restore asks the store for all 60 days
  as it always did (slower, the same result) and the file exists from then on.

Hours older than 60 days are deleted as new ones come. Only beacon ids, hours
and millivolts are kept: no address.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np

from iotorino.beacons.health import BATTERY_HISTORY_H, HOUR_NS
from iotorino.core.sqlitefile import open_durable, transaction

# Seconds between looks for a closed hour while running, and closed hours asked again (late windows).
REFRESH_S = 600.0
LATE_H = 1

# One row per beacon: its hours (int64, hours since the epoch, ascending) and millivolts (int32) as packed
# arrays; 500 rows read at once instead of 720,000.
SCHEMA = """
CREATE TABLE IF NOT EXISTS battery_hours (beacon TEXT PRIMARY KEY, hours BLOB NOT NULL, mvs BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS coverage (store TEXT PRIMARY KEY, until_hour INTEGER NOT NULL);
"""


class BatteryHistory:
    """The file of hourly battery voltages, for one store (its URL and database: another store's hours never count)."""

    def __init__(self, path: Path, store: str) -> None:
        self.path, self.store = Path(path), store
        self._db: sqlite3.Connection = open_durable(self.path, SCHEMA)
        self._lock = threading.Lock()  # the restorer and the refresher may both write
        if self._db.execute("SELECT 1 FROM coverage WHERE store != ?", (store,)).fetchone():
            self.forget()

    def covered_until_ns(self) -> int | None:
        """Start of the first hour not covered: every closed hour before it is in the file (None: nothing is)."""
        with self._lock:
            row = self._db.execute("SELECT until_hour FROM coverage WHERE store = ?", (self.store,)).fetchone()
        return None if row is None else row[0] * HOUR_NS

    def read(self, start_ns: int, end_ns: int) -> dict[str, list[tuple[int, int]]]:
        """The hourly (hour start ns, mV) of every beacon for the hours starting in [start, end), oldest first."""
        first, stop = -(-start_ns // HOUR_NS), -(-end_ns // HOUR_NS)
        history = {}
        with self._lock:
            rows = self._db.execute("SELECT beacon, hours, mvs FROM battery_hours").fetchall()
        for beacon, hours, mvs in rows:
            hours, mvs = np.frombuffer(hours, dtype=np.int64), np.frombuffer(mvs, dtype=np.int32)
            a, b = np.searchsorted(hours, [first, stop])
            if b > a:
                history[beacon] = list(zip((hours[a:b] * HOUR_NS).tolist(), mvs[a:b].tolist()))
        return history

    def record(self, samples: list[tuple[str, int, int]], covered_until_ns: int) -> None:
        """Store (beacon, hour start ns, mV) samples of closed hours, replacing those hours (of two for one
        hour the later), and the coverage (a whole hour); drops the hours older than the trend uses."""
        until_hour = covered_until_ns // HOUR_NS
        oldest = until_hour - BATTERY_HISTORY_H - 1
        by_beacon: dict[str, dict[int, int]] = {}
        for beacon, t, mv in samples:
            if t // HOUR_NS < until_hour:
                by_beacon.setdefault(beacon, {})[t // HOUR_NS] = mv
        with self._lock, transaction(self._db) as db:
            for beacon, hours, mvs in db.execute("SELECT beacon, hours, mvs FROM battery_hours").fetchall():
                new = by_beacon.get(beacon, {})
                kept = dict(zip(np.frombuffer(hours, dtype=np.int64).tolist(), np.frombuffer(mvs, dtype=np.int32).tolist()))
                kept.update(new)
                by_beacon[beacon] = kept
            for beacon, kept in by_beacon.items():
                hours = sorted(h for h in kept if h >= oldest)
                db.execute("INSERT OR REPLACE INTO battery_hours VALUES (?, ?, ?)",
                           (beacon, np.array(hours, dtype=np.int64).tobytes(),
                            np.array([kept[h] for h in hours], dtype=np.int32).tobytes()))
            db.execute("INSERT OR REPLACE INTO coverage VALUES (?, ?)", (self.store, until_hour))
            db.execute("DELETE FROM coverage WHERE store != ?", (self.store,))

    def forget(self) -> None:
        """Drop every hour (the file was written for another store)."""
        with self._lock, transaction(self._db) as db:
            db.execute("DELETE FROM battery_hours")
            db.execute("DELETE FROM coverage")

    def close(self) -> None:
        """Close the file."""
        self._db.close()
