"""The published school KPIs the school pages read: daily partitions of `school_energy_daily` and
`classroom_air_daily` from the exports folder, loaded once and again only when a partition changes.

A page never reads more than the last two years of partitions (the year's figures and the year before
them); a missing dataset is an empty frame, so the pages say "no data yet" rather than fail.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pandas as pd

ENERGY = "school_energy_daily"
AIR = "classroom_air_daily"
KEEP_DAYS = 2 * 366


class SchoolData:
    """Cached frames of the two daily school datasets under `exports_dir`."""

    def __init__(self, exports_dir: Path) -> None:
        self.exports_dir = Path(exports_dir)
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[tuple, pd.DataFrame]] = {}

    def energy(self) -> pd.DataFrame:
        """Every published `school_energy_daily` row of the last two years."""
        return self._frame(ENERGY)

    def air(self) -> pd.DataFrame:
        """Every published `classroom_air_daily` row of the last two years."""
        return self._frame(AIR)

    def last_day(self) -> date | None:
        """The latest local day published for the school energy KPIs."""
        days = self._partitions(ENERGY)
        return days[-1][0] if days else None

    def _partitions(self, dataset: str) -> list[tuple[date, Path, int]]:
        root = self.exports_dir / dataset / "data"
        found = []
        for folder in root.glob("date=*"):
            path = folder / "part-0.parquet"
            try:
                found.append((date.fromisoformat(folder.name[5:]), path, path.stat().st_mtime_ns))
            except (ValueError, FileNotFoundError):
                continue
        return sorted(found)[-KEEP_DAYS:]

    def _frame(self, dataset: str) -> pd.DataFrame:
        parts = self._partitions(dataset)
        key = tuple((d, m) for d, _, m in parts)
        with self._lock:
            cached = self._cache.get(dataset)
            if cached is not None and cached[0] == key:
                return cached[1]
        frame = pd.concat([pd.read_parquet(p) for _, p, _ in parts], ignore_index=True) if parts else pd.DataFrame()
        if len(frame):
            frame["local_date"] = pd.to_datetime(frame["local_date"]).dt.date
        with self._lock:
            self._cache[dataset] = (key, frame)
        return frame
