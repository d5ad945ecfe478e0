"""The indicator datasets written back into InfluxDB, so the city reads them with InfluxQL beside the raw data.

Naming scheme (docs/indicators.md, "Indicatori in InfluxDB"):

- database: the store's (`iotorino`); retention policy `hourly` (infinite, the one
  the hourly aggregates already use); measurement: the dataset's name,
  `air_quality_index_hourly`, `air_quality_daily`, `air_quality_indicators`,
  `noise_daily` (no raw measurement has these names);
- tags: the columns that identify a row (`unit_id`, `district`, and `pollutant`,
  `regime`, `limit_id` where the dataset has them), named as in the Parquet;
- time: the hour's start (`date_observed_from`) for hourly rows, the local day's
  start (00:00 Europe/Rome, in UTC) for daily rows;
- fields: every other column with its Parquet name and type (float, integer,
  boolean, string), except the time columns (`date_observed_to`,
  `local_time_from`, `local_date`), which the point's time already says.

An invalid aggregate is never a bare number: its value column is empty in the
Parquet, so the field is absent, and the point keeps its validity flag and its
capture (`valid` and `capture`; `capture_sufficient` and `capture`; and, where the
Parquet has only a coverage, a `*_valid` boolean written beside it here).

Written from the day's Parquet partition just exported, so the values are the
published ones. Re-running a day deletes the dataset's points of that day and
writes them again: a value that became invalid, or a unit that has gone, leaves
nothing behind (InfluxDB merges the fields of a rewritten point, so a plain
overwrite would keep a stale value). DELETE and write need the WRITE privilege only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

import pyarrow.parquet as pq

from iotorino.core.errors import ConfigError
from iotorino.core.reading import Reading
from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings
from iotorino.export.downsample import HOURLY_RP, ensure_retention_policy
from iotorino.export.parquet import PART_NAME, partition_dir
from iotorino.export.window import local_day

log = logging.getLogger(__name__)

RETENTION_POLICY = HOURLY_RP
BATCH = 5_000
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
TIME_COLUMNS = ("date_observed_from", "date_observed_to", "local_time_from", "local_date")


@dataclass(frozen=True)
class Scheme:
    """How one dataset's rows become points: its tag columns, whether rows are hourly, and the
    validity flags written beside value columns that the Parquet marks only by leaving them empty
    ({flag field: (value column, coverage column or None)})."""

    tags: tuple[str, ...]
    hourly: bool
    flags: Mapping[str, tuple[str, str | None]]


def _noise_flags() -> dict[str, tuple[str, str | None]]:
    periods = ("l_day", "l_evening", "l_night", "dpcm_day", "dpcm_night")
    return {**{f"{p}_valid": (p, f"{p}_coverage") for p in periods}, "l_den_valid": ("l_den", None),
            "l_den_ytd_valid": ("l_den_ytd", None)}


def _index_flags() -> dict[str, tuple[str, str | None]]:
    from iotorino.export.air_quality import POLLUTANTS

    return {f"{p}_valid": (f"{p}_hourly", f"{p}_coverage") for p in POLLUTANTS}


def schemes() -> dict[str, Scheme]:
    """The datasets written back, by name."""
    return {
        "air_quality_index_hourly": Scheme(("unit_id", "district"), True, _index_flags()),
        "air_quality_daily": Scheme(("unit_id", "district", "pollutant"), False, {}),
        "air_quality_indicators": Scheme(("unit_id", "district", "regime", "limit_id", "pollutant"), False, {}),
        "noise_daily": Scheme(("unit_id", "district"), False, _noise_flags()),
    }


def scheme(dataset: str) -> Scheme:
    """The scheme of `dataset`; `ConfigError` listing the datasets written back otherwise."""
    known = schemes()
    if dataset not in known:
        raise ConfigError("dataset", f"{dataset!r} is not written back to InfluxDB", ", ".join(known))
    return known[dataset]


def points(dataset: str, rows: list[dict[str, Any]], day: date) -> list[Reading]:
    """The points of one exported day of `dataset` (rows as `pyarrow.Table.to_pylist` gives them)."""
    spec = scheme(dataset)
    day_start = local_day(day).start_ns
    out = []
    for row in rows:
        tags = {t: str(row[t]) for t in spec.tags if row.get(t) is not None}
        fields: dict[str, Any] = {}
        for name, value in row.items():
            if name in spec.tags or name in TIME_COLUMNS or value is None:
                continue
            fields[name] = value
        for flag, (value_column, coverage_column) in spec.flags.items():
            if coverage_column is None or row.get(coverage_column) is not None:
                fields[flag] = row.get(value_column) is not None
        time_ns = _ns(row["date_observed_from"]) if spec.hourly else day_start
        out.append(Reading(dataset, tags, fields, time_ns))
    return out


def write_day(dataset: str, day: date, settings: InfluxV1Settings, out_dir: Path | str,
              *, client: InfluxV1Client | None = None) -> int:
    """Write the exported partition of `dataset` for local `day` into InfluxDB, replacing that day's points.

    `settings` must allow writing (a WRITE user). Returns the number of points written.
    """
    spec = scheme(dataset)
    path = partition_dir(Path(out_dir), dataset, day) / PART_NAME
    if not path.exists():
        raise ConfigError("date", f"no exported partition of {dataset} for {day} at {path}",
                          "a day exported first (iotorino export DATASET --date D)")
    rows = pq.read_table(path).to_pylist()
    found = points(dataset, rows, day)
    own = client is None
    client = client or InfluxV1Client(settings)
    writer = InfluxV1Client(replace(client.settings, retention_policy=RETENTION_POLICY))
    try:
        ensure_retention_policy(client, RETENTION_POLICY)
        window = local_day(day)
        # Deletes the day's points of this measurement (in every retention policy: only this one holds it).
        client.query(f'DELETE FROM "{dataset}" WHERE time >= {window.start_ns} AND time < {window.end_ns}')
        for i in range(0, len(found), BATCH):
            writer.write(found[i : i + BATCH])
    finally:
        writer.close()
        if own:
            client.close()
    log.info("wrote %d points of %s for %s into InfluxDB %s.%s (%d tag columns%s)", len(found), dataset, day,
             settings.database, RETENTION_POLICY, len(spec.tags), ", hourly" if spec.hourly else "")
    return len(found)


def _ns(moment: datetime) -> int:
    """A timestamp cell (datetime with tz, from Parquet `timestamp[ms, UTC]`) as UTC epoch ns."""
    return (moment - EPOCH) // timedelta(milliseconds=1) * 1_000_000
