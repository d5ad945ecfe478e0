"""Many days of exports: days in parallel processes, and a journal of finished days to resume from.

A day is the unit: its datasets are built together (`run_day`) and it is written
to the journal only once every dataset's files are in place, so an interrupted
backfill re-does at most the days that were in flight. The journal is one line
per finished day in `OUT/.backfill/<datasets>.done`; a day exported again simply
replaces its partitions (atomically), so a stale journal costs time, never data.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from iotorino.core.store.influx_v1 import InfluxV1Settings
from iotorino.export.run import ExportResult, run_day


class Journal:
    """The finished days of a backfill of `datasets` into `out_dir`."""

    def __init__(self, out_dir: Path, datasets: Sequence[str]) -> None:
        digest = hashlib.sha256(",".join(sorted(datasets)).encode()).hexdigest()[:12]
        self.path = Path(out_dir) / ".backfill" / f"{digest}.done"

    def done(self) -> set[date]:
        """Days recorded as finished (an unfinished last line, cut by a crash, is ignored)."""
        if not self.path.exists():
            return set()
        days = set()
        for line in self.path.read_text().splitlines():
            try:
                days.add(date.fromisoformat(line.strip()))
            except ValueError:
                continue
        return days

    def record(self, day: date) -> None:
        """Append `day` and flush it to disk before the next day is reported."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(f"{day.isoformat()}\n")
            fh.flush()
            os.fsync(fh.fileno())


def export_days(
    names: Sequence[str], days: Iterable[date], settings: InfluxV1Settings, out_dir: Path | str, jobs: int = 1,
    trigger: str = "manual",
) -> Iterator[tuple[date, list[ExportResult]]]:
    """(day, results) for every day as it finishes; `jobs` > 1 runs that many days at once in processes.
    `trigger` says who asked, for the change log."""
    days = list(days)
    if jobs <= 1 or len(days) <= 1:
        for day in days:
            yield day, run_day(names, day, settings, out_dir, trigger=trigger)
        return
    with ProcessPoolExecutor(jobs) as pool:
        futures = [(day, pool.submit(run_day, list(names), day, settings, out_dir, threads=1, trigger=trigger))
                   for day in days]
        for day, future in futures:
            yield day, future.result()
