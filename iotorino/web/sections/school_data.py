"""The published school KPIs the school pages read: daily partitions of `school_energy_daily` and
`classroom_air_daily` from the exports folder, loaded once and again only when a partition changes.

A page never reads more than the last two years of partitions (the year's figures and the year before
them); a missing dataset is an empty frame, so the pages say "no data yet" rather than fail.

`ModelCache` keeps what the pages compute from those frames (a school's view model) under the same
key, the partitions' versions: a page computes it once per published data version and after that
only renders.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future
from datetime import date
from pathlib import Path
from typing import Callable, Hashable, TypeVar

import pandas as pd

ENERGY = "school_energy_daily"
AIR = "classroom_air_daily"
KEEP_DAYS = 2 * 366
MODELS_KEPT = 128  # view models in memory: two pages (school, pupils) of the 40 schools, with room to spare

T = TypeVar("T")


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

    def version(self) -> tuple:
        """The published data's version: every partition's day and file identity (mtime, inode, size), both datasets."""
        return tuple(tuple((d, m) for d, _, m in self._partitions(name)) for name in (ENERGY, AIR))

    def last_day(self) -> date | None:
        """The latest local day published for the school energy KPIs."""
        days = self._partitions(ENERGY)
        return days[-1][0] if days else None

    def _partitions(self, dataset: str) -> list[tuple[date, Path, tuple[int, int, int]]]:
        root = self.exports_dir / dataset / "data"
        found = []
        for folder in root.glob("date=*"):
            path = folder / "part-0.parquet"
            try:
                stat = path.stat()
                # A partition replaced within the clock's tick keeps its mtime; its inode or size changes.
                found.append((date.fromisoformat(folder.name[5:]), path, (stat.st_mtime_ns, stat.st_ino, stat.st_size)))
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


class ModelCache:
    """A bounded LRU of view models, thread-safe, each key computed once even when requests ask for it at once.

    A key holds the data version the model was computed from (`SchoolData.version()`), so a published
    partition makes a new key and the old models age out of the LRU. Models hold no translated text.
    """

    def __init__(self, size: int = MODELS_KEPT) -> None:
        self.size = size
        self.computed = 0  # models computed since start (the rest were served from memory)
        self._lock = threading.Lock()
        self._models: OrderedDict[Hashable, object] = OrderedDict()
        self._pending: dict[Hashable, Future] = {}

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The model of `key`: from memory, from the request already computing it, or `compute()` now."""
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
            pending = self._pending.get(key)
            if pending is None:
                pending = self._pending[key] = Future()
                owner = True
            else:
                owner = False
        if not owner:
            return pending.result()  # the same model, or the same exception, as the request computing it
        try:
            model = compute()
        except BaseException as exc:
            with self._lock:
                del self._pending[key]
            pending.set_exception(exc)
            raise
        with self._lock:
            del self._pending[key]
            self._models[key] = model
            self.computed += 1
            while len(self._models) > self.size:
                self._models.popitem(last=False)
        pending.set_result(model)
        return model
