"""The published datasets the city pages read, loaded once and again only when a partition changes.

Daily partitions (`<dataset>/data/date=YYYY-MM-DD/part-0.parquet`) of:

- `air_quality_indicators`: only the newest day (it holds the year so far);
- `air_quality_daily`, `noise_daily`: the calendar year of the newest day;
- `air_quality_index_hourly`, `noise_hourly`, and for the schools `classroom_environment_hourly`,
  `school_outdoor_hourly`, `weather_hourly`: the last `RECENT_DAYS` days published.

Only the columns the pages use are read, all partitions of a scope in one pyarrow
dataset read. A dataset with nothing published is an empty frame, so a page says
"no data yet" rather than fail. Frames split by site are kept with their frame
(`by_site`), so a unit's page does not scan the city. Every cached value is computed
once: a request arriving while it is being computed (by another request or the
start-up warm-up) waits for that computation instead of starting its own.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

RECENT_DAYS = 28  # four weeks: four weekends for the weekend profiles, enough hours for a lag
LISTING_TTL_S = 60.0  # a new or replaced partition shows on the pages within this many seconds (exports are daily)

INDICATORS = "air_quality_indicators"
DAILY = "air_quality_daily"
NOISE_DAILY = "noise_daily"
INDEX_HOURLY = "air_quality_index_hourly"
NOISE_HOURLY = "noise_hourly"
CLASSROOMS = "classroom_environment_hourly"
SCHOOL_OUTDOOR = "school_outdoor_hourly"
WEATHER = "weather_hourly"

HOUR = ["date_observed_from", "local_time_from"]
COLUMNS = {
    INDICATORS: None,
    DAILY: ["unit_id", "local_date", "pollutant", "valid_hours", "required_hours", "capture", "valid", "daily_mean",
            "max_hourly"],
    NOISE_DAILY: None,
    INDEX_HOURLY: ["unit_id", "district", *HOUR, "pm25_hourly", "pm10_hourly", "no2_hourly", "o3_hourly", "eaqi_level",
                   "eaqi_pollutant"],
    NOISE_HOURLY: ["unit_id", "district", *HOUR, "laeq_mean", "completeness"],
    CLASSROOMS: ["school_id", "room_id", *HOUR, "co2_mean", "temperature_mean"],
    SCHOOL_OUTDOOR: ["school_id", *HOUR, "co2_mean", "temperature_mean"],
    WEATHER: ["unit_id", *HOUR, "temperature_mean"],
}


class CityData:
    """Cached frames of the published city datasets under `exports_dir`."""

    def __init__(self, exports_dir: Path) -> None:
        self.exports_dir = Path(exports_dir)
        self._lock = threading.Lock()
        self._derived: dict[str, tuple[tuple, object]] = {}
        self._listings: dict[str, tuple[float, list]] = {}
        self._flights: dict[str, threading.Lock] = {}  # one lock per cached name: a value is computed once

    def partitions(self, dataset: str) -> list[tuple[date, Path, int]]:
        """(day, file, mtime ns) of every published day of `dataset`, oldest first.

        The folder is listed again at most every `LISTING_TTL_S` seconds: a year of partitions is
        hundreds of `stat` calls, and a page asks for several datasets.
        """
        now = time.monotonic()
        with self._lock:
            listed = self._listings.get(dataset)
            if listed is not None and now - listed[0] < LISTING_TTL_S:
                return listed[1]
        found = []
        for folder in (self.exports_dir / dataset / "data").glob("date=*"):
            path = folder / "part-0.parquet"
            try:
                found.append((date.fromisoformat(folder.name[5:]), path, path.stat().st_mtime_ns))
            except (ValueError, FileNotFoundError):
                continue
        found.sort()
        with self._lock:
            self._listings[dataset] = (now, found)
        return found

    def last_day(self, dataset: str) -> date | None:
        """The newest day published of `dataset`."""
        parts = self.partitions(dataset)
        return parts[-1][0] if parts else None

    def newest(self, dataset: str) -> pd.DataFrame:
        """The newest partition of `dataset`."""
        return self.frame(dataset, "newest")

    def year(self, dataset: str) -> pd.DataFrame:
        """Every partition of `dataset` in the calendar year of its newest one."""
        return self.frame(dataset, "year")

    def recent(self, dataset: str) -> pd.DataFrame:
        """The last `RECENT_DAYS` published partitions of `dataset`."""
        return self.frame(dataset, "recent")

    def scope(self, dataset: str, scope: str) -> list[tuple[date, Path, int]]:
        """The partitions of `dataset` a `scope` reads: newest, year (of the newest) or recent."""
        parts = self.partitions(dataset)
        if scope == "newest":
            return parts[-1:]
        if scope == "recent":
            return parts[-RECENT_DAYS:]
        return [p for p in parts if p[0].year == parts[-1][0].year] if parts else []

    def key(self, dataset: str, scope: str) -> tuple:
        """What a frame of `dataset` in `scope` is read from; changes when a partition does."""
        return tuple((d, m) for d, _, m in self.scope(dataset, scope))

    def derived(self, name: str, key: tuple, compute):
        """`compute()` kept under `name` until `key` (what it was computed from) changes.

        Callers asking for the same name while it is computed wait for that one computation.
        """
        with self._lock:
            cached = self._derived.get(name)
            if cached is not None and cached[0] == key:
                return cached[1]
            flight = self._flights.setdefault(name, threading.Lock())
        with flight:
            with self._lock:
                cached = self._derived.get(name)
                if cached is not None and cached[0] == key:
                    return cached[1]
            value = compute()
            with self._lock:
                self._derived[name] = (key, value)
            return value

    def ready(self, name: str, key: tuple) -> bool:
        """Whether `name` is cached for `key` (nothing to compute)."""
        with self._lock:
            cached = self._derived.get(name)
            return cached is not None and cached[0] == key

    def by_site(self, dataset: str, scope: str, site: str) -> dict[str, pd.DataFrame]:
        """The frame of `dataset` in `scope` split by its `site` column (kept until a partition changes)."""
        def split():
            frame = self.frame(dataset, scope)
            return {k: g for k, g in frame.groupby(site, sort=False)} if len(frame) else {}
        return self.derived(f"{dataset}:{scope}:{site}", self.key(dataset, scope), split)

    def frame(self, dataset: str, scope: str) -> pd.DataFrame:
        """The partitions of `dataset` in `scope` as one frame (only the columns the pages use)."""
        parts = self.scope(dataset, scope)
        return self.derived(f"frame:{dataset}:{scope}", tuple((d, m) for d, _, m in parts),
                            lambda: read_frame([p for _, p, _ in parts], COLUMNS.get(dataset)))


def read_frame(paths: list[Path], columns: list[str] | None) -> pd.DataFrame:
    """`paths` (parquet files) as one frame of `columns` (those the newest file has; None: all).

    One pyarrow dataset read over every file (threads over files, one conversion to pandas);
    files whose schema differs from the newest one are read one by one instead.
    """
    if not paths:
        return pd.DataFrame(columns=columns or [])
    present = _present(paths[-1], columns)
    try:
        schema = pq.read_schema(paths[-1])
        table = ds.dataset([str(p) for p in paths], schema=schema, format="parquet").to_table(columns=present)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        table = pa.concat_tables([pq.read_table(p, columns=_present(p, columns)) for p in paths], promote_options="default")
    frame = table.to_pandas()
    if "local_date" in frame and len(frame) and type(frame["local_date"].iloc[0]) is not date:
        frame["local_date"] = pd.to_datetime(frame["local_date"]).dt.date
    return frame


def _present(path: Path, wanted: list[str] | None) -> list[str] | None:
    if wanted is None:
        return None
    names = set(pq.read_schema(path).names)
    return [c for c in wanted if c in names]
