"""The replayed hour of sightings, folded and kept beside the battery history: a restart reads only its tail.

The restore folds the last hour of sightings per beacon and gateway
(`SeriesSummary`); asked of the store that is 600,000 rows for a full fleet,
20 s of InfluxDB. So the monitor keeps that fold in a SQLite file
(`[monitor] battery_history` with `.fold` before its suffix), cut in
`BUCKET_S` buckets of clock time (one summary per beacon, gateway and
bucket: the buckets that age out of the hour are dropped, the others merge
into the hour's fold exactly, `health.merge_spans`).

- Kept up to date: a supervised thread looks every `SNAPSHOT_S` for buckets
  that have closed `LATE_S` ago (late windows a gateway delivered by then
  are in), asks the store for them alone, and writes the whole fold with
  its coverage in one transaction; at a clean stop, once more.
- At a restart the restore takes the buckets that lie within its hour and
  asks the store only for the rest: the part of a bucket at the hour's
  start, and everything after the snapshot's coverage (`restore.stored_evidence`).
- No snapshot, one whose coverage has left the hour, one that cannot be
  read, or one written for another store or fleet: the restore reads the
  whole hour as before (the same result, slower) and says why in one log line.

Only beacon ids, gateway ids, times and numbers are kept: no address.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import zlib
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Iterable

from iotorino.beacons.health import SeriesSummary
from iotorino.core.sqlitefile import open_durable, transaction

S = 1_000_000_000
# Seconds of clock time per bucket (a restore reads up to one bucket at the hour's start and one at its end).
BUCKET_S = 300
# Seconds between looks for closed buckets while running.
SNAPSHOT_S = 60.0
# Seconds a bucket must have been closed before it is folded (windows a gateway sends late).
LATE_S = 60
FORMAT = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS fold (id INTEGER PRIMARY KEY CHECK (id = 1), format INTEGER NOT NULL, store TEXT NOT NULL,
  fleet TEXT NOT NULL, bucket_s INTEGER NOT NULL, from_ns INTEGER NOT NULL, until_ns INTEGER NOT NULL,
  summaries BLOB NOT NULL);
"""


def fleet_key(beacons: Iterable[str], gateways: Iterable[str]) -> str:
    """A digest of the fleet's beacon and gateway ids: a snapshot of another fleet is not taken."""
    return hashlib.sha256(json.dumps([sorted(beacons), sorted(gateways)]).encode()).hexdigest()[:16]


def bucket_of(t_ns: int) -> int:
    """The bucket (index since the epoch) holding time `t_ns`."""
    return t_ns // (BUCKET_S * S)


@dataclass(frozen=True)
class Fold:
    """Summaries per beacon, gateway and bucket of the sightings in [from_ns, until_ns) (whole buckets)."""

    from_ns: int
    until_ns: int
    buckets: tuple[SeriesSummary, ...]

    def within(self, start_ns: int, end_ns: int) -> list[SeriesSummary]:
        """The summaries of the buckets lying wholly within [start, end)."""
        bucket_ns = BUCKET_S * S
        return [s for s in self.buckets
                if start_ns <= bucket_of(s.last_ns) * bucket_ns and (bucket_of(s.last_ns) + 1) * bucket_ns <= end_ns]


class FoldSnapshot:
    """The file of the folded hour, for one store (URL and database) and fleet."""

    def __init__(self, path: Path, store: str, fleet: str) -> None:
        self.path, self.store, self.fleet = Path(path), store, fleet
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def read(self) -> tuple[Fold | None, str]:
        """The fold kept, or None and why not (no file, another store or fleet, unreadable)."""
        if not self.path.exists():
            return None, "no snapshot"
        try:
            with self._lock:
                row = self._connect().execute(
                    "SELECT format, store, fleet, bucket_s, from_ns, until_ns, summaries FROM fold").fetchone()
            if row is None:
                return None, "no snapshot"
            form, store, fleet, bucket_s, from_ns, until_ns, blob = row
            if (form, bucket_s) != (FORMAT, BUCKET_S):
                return None, f"a snapshot of format {form} with {bucket_s}-s buckets"
            if store != self.store:
                return None, "a snapshot of another database"
            if fleet != self.fleet:
                return None, "a snapshot of another fleet"
            summaries = tuple(_summary(row) for row in json.loads(zlib.decompress(blob)))
            return Fold(from_ns, until_ns, summaries), "snapshot"
        except (sqlite3.DatabaseError, zlib.error, ValueError, TypeError, KeyError) as error:
            return None, f"an unreadable snapshot ({type(error).__name__})"

    def write(self, fold: Fold) -> None:
        """Replace the kept fold with `fold` (one transaction: a crash leaves the old one or the new)."""
        blob = zlib.compress(json.dumps([_row(s) for s in fold.buckets], separators=(",", ":")).encode(), 1)
        with self._lock, transaction(self._connect()) as db:
            db.execute("INSERT OR REPLACE INTO fold VALUES (1, ?, ?, ?, ?, ?, ?, ?)",
                       (FORMAT, self.store, self.fleet, BUCKET_S, fold.from_ns, fold.until_ns, blob))

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = open_durable(self.path, SCHEMA)
        return self._db


def advance(fold: Fold | None, new: Iterable[SeriesSummary], until_ns: int, keep_from_ns: int) -> Fold:
    """`fold` with the buckets `new` (of [fold.until_ns, until_ns)) added and those before `keep_from_ns`
    (a bucket boundary) dropped."""
    old = fold.buckets if fold is not None else ()
    start = keep_from_ns if fold is None else max(keep_from_ns, fold.from_ns)
    kept = tuple(s for s in (*old, *new) if bucket_of(s.last_ns) * BUCKET_S * S >= start)
    return Fold(start, until_ns, kept)


def snapshot_path(battery_history: Path) -> Path:
    """The snapshot file beside the battery history file."""
    return battery_history.with_name(f"{battery_history.stem}.fold{battery_history.suffix}")


def _row(s: SeriesSummary) -> list:
    return list(astuple(s))


def _summary(row: list) -> SeriesSummary:
    beacon, gateway, last_ns, best, battery, first, last, reboot, clone, readings = row
    counters = lambda c: None if c is None else (int(c[0]), int(c[1]), float(c[2]))  # noqa: E731
    return SeriesSummary(str(beacon), str(gateway), int(last_ns), int(best),
                         tuple((int(t), int(mv)) for t, mv in battery), counters(first), counters(last),
                         None if reboot is None else int(reboot), None if clone is None else int(clone), int(readings))

