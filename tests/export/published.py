"""A published open-data tree for tests, written by the exports' own writers (no store needed).

`publish_day` does what `run_export` does after querying: the Parquet partition,
its CSV copy, the provenance record and the dataset's metadata — from hourly
rows made here with known values (`hourly_rows`), so tests can recompute them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pyarrow as pa

from iotorino.core import catalogue
from iotorino.export import dcat, parquet, provenance, registry
from iotorino.export.columns import COMPLETENESS, HOUR_COLUMNS, stat_columns, tag_column
from iotorino.export.datasets import STREET_TAGS
from iotorino.export.window import local_day, local_label

DATASET = "air_quality_hourly"
UNITS = ("TO-SU-0001", "TO-SU-0002", "TO-SU-0003")


def hourly_columns():
    """The air_quality_hourly columns, as the registry's builder makes them."""
    spec = catalogue.default().measurement("air_quality")
    columns = [tag_column(spec, t, c) for t, c in STREET_TAGS.items()] + HOUR_COLUMNS
    for field in spec.fields.values():
        columns += stat_columns(field)
    columns = [replace(c, type=pa.int8()) if c.name == "district" else c for c in columns]  # as the builder does
    return columns + [COMPLETENESS]


def hourly_rows(day: date, units=UNITS, hours: int | None = None, offset: float = 0.0) -> dict[str, list]:
    """Rows for every unit and hour of local `day` (the first `hours` hours if given).

    pm10_mean = 10 + hour + offset; the other fields vary pseudo-randomly (so files do not compress to nothing).
    """
    window = local_day(day)
    spec = catalogue.default().measurement("air_quality")
    data: dict[str, list] = {c.name: [] for c in hourly_columns()}
    for unit in units:
        for i, start in enumerate(window.hour_starts_ns()[: hours or window.hours]):
            data["unit_id"].append(unit)
            data["district"].append(int(unit[-1]))
            data["date_observed_from"].append(start)
            data["date_observed_to"].append(start + 3_600_000_000_000)
            data["local_time_from"].append(local_label(start))
            for field in spec.fields:
                noise = (len(data["unit_id"]) * 7919 + len(field) * 104729 + day.toordinal()) % 10007 / 1000
                value = 10.0 + i + offset if field == "pm10" else round(1.0 + i + noise, 3)
                data[f"{field}_mean"].append(value)
                data[f"{field}_min"].append(value - 1)
                data[f"{field}_max"].append(value + 1)
                data[f"{field}_count"].append(6)
            data["completeness"].append(1.0)
    return data


def publish_day(out: Path, day: date, data: dict[str, list] | None = None, trigger: str = "test", dataset: str = DATASET):
    """Write and record one day of `dataset` like `run_export`; returns the change-log entry (or None)."""
    columns = hourly_columns()
    table = parquet.build_table(columns, data if data is not None else hourly_rows(day), {"iotorino:dataset": dataset, "iotorino:date": day.isoformat()})
    before = provenance.read_day(out, dataset, day)
    path = parquet.write_partition(table, out, dataset, day)
    csv_path = parquet.write_csv_copy(table, out, dataset, day)
    entry = provenance.record_day(out, dataset, day, before, table, {"parquet": path, "csv": csv_path}, trigger)
    dcat.write_metadata(registry()[dataset], columns, Path(out) / dataset)
    return entry
