"""The hourly battery history the monitor keeps beside its status spool: 60 days read back in well under a second.

The battery trend needs, per beacon, the last TLM voltage of each of the
last 60 days' hours. Asked of the raw sightings (`SELECT last("battery_mv")
... GROUP BY time(1h), "beacon"`) that is every sighting of 60 days: 9 s for
one point per beacon and hour, and hours for a full fleet's 1,200 a beacon
and hour. So the monitor keeps the answer: a SQLite file (`[monitor]
battery_history`) of one row per beacon and closed hour, the very values of
that query (time = the hour's start, mV = its last voltage), computed by
InfluxDB for each hour once it has closed.

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

from iotorino.beacons.health import BATTERY_HISTORY_H, HOUR_NS
from iotorino.core.sqlitefile import open_durable, transaction

# Seconds between looks for a closed hour while running, and closed hours asked again (late windows).
REFRESH_S = 600.0
LATE_H = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS battery (beacon TEXT NOT NULL, hour INTEGER NOT NULL, mv INTEGER NOT NULL,
                                    PRIMARY KEY (beacon, hour)) WITHOUT ROWID;
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
        row = self._db.execute("SELECT until_hour FROM coverage WHERE store = ?", (self.store,)).fetchone()
        return None if row is None else row[0] * HOUR_NS

    def read(self, start_ns: int, end_ns: int) -> dict[str, list[tuple[int, int]]]:
        """The hourly (hour start ns, mV) of every beacon for the hours starting in [start, end), oldest first."""
        history: dict[str, list[tuple[int, int]]] = {}
        rows = self._db.execute("SELECT beacon, hour, mv FROM battery WHERE hour >= ? AND hour < ? ORDER BY beacon, hour",
                                (-(-start_ns // HOUR_NS), -(-end_ns // HOUR_NS)))
        for beacon, hour, mv in rows:
            samples = history.get(beacon)
            if samples is None:
                samples = history[beacon] = []
            samples.append((hour * HOUR_NS, mv))
        return history

    def record(self, samples: list[tuple[str, int, int]], covered_until_ns: int) -> None:
        """Store (beacon, hour start ns, mV) samples of closed hours, replacing those hours, and the coverage
        (a whole hour); drops the hours older than the history the trend uses."""
        until_hour = covered_until_ns // HOUR_NS
        with self._lock, transaction(self._db) as db:
            db.executemany("INSERT OR REPLACE INTO battery VALUES (?, ?, ?)",
                           ((beacon, t // HOUR_NS, mv) for beacon, t, mv in samples if t // HOUR_NS < until_hour))
            db.execute("INSERT OR REPLACE INTO coverage VALUES (?, ?)", (self.store, until_hour))
            db.execute("DELETE FROM coverage WHERE store != ?", (self.store,))
            db.execute("DELETE FROM battery WHERE hour < ?", (until_hour - BATTERY_HISTORY_H - 1,))

    def forget(self) -> None:
        """Drop every hour (the file was written for another store)."""
        with self._lock, transaction(self._db) as db:
            db.execute("DELETE FROM battery")
            db.execute("DELETE FROM coverage")

    def close(self) -> None:
        """Close the file."""
        self._db.close()
