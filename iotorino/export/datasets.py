"""The registry of exported datasets: what each one is, and how a day of it is built.

Every dataset builds one local day into columns (`Column` specs + data lists);
`iotorino.export.run` writes them. Names are the portal's dataset ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from iotorino import catalogue as catalogue_mod
from iotorino.export import aggregate, expected, query
from iotorino.export.columns import COMPLETENESS, HOUR_COLUMNS, Column, stat_columns, tag_column
from iotorino.export.window import DayWindow
from iotorino.store.influx_v1 import InfluxV1Client


@dataclass
class ExportContext:
    """What a dataset builder may use: the store `client`, the day `window`, the `inventory` (or None)."""

    client: InfluxV1Client
    window: DayWindow
    inventory: Any | None
    chunk_hours: int = 6


STREET_TAGS = {"unit": "unit_id", "district": "district"}

Built = tuple[list[Column], dict[str, list]]


@dataclass(frozen=True)
class Dataset:
    """One published dataset: portal id, DCAT title/description/theme, and its day builder."""

    name: str
    title: str
    description: str
    theme: str  # DCAT-AP_IT data theme: ENVI, ENER, EDUC, ...
    build: Callable[[ExportContext], Built] = field(repr=False)
    keywords: tuple[str, ...] = ()


def hourly(measurement: str, tag_columns: dict[str, str]) -> Callable[[ExportContext], Built]:
    """Builder of a gauge measurement's hourly aggregates, one row per tag group and hour.

    `tag_columns` maps store tags to output columns.
    """

    def build(ctx: ExportContext) -> Built:
        spec = catalogue_mod.default().measurement(measurement)
        fields = [f for f, s in spec.fields.items() if s.kind == "gauge"]
        rows = query.hourly_stats(
            ctx.client, measurement, fields, list(tag_columns), ctx.window.start_ns, ctx.window.end_ns,
            chunk_hours=ctx.chunk_hours,
        )
        intervals = expected.intervals(ctx.inventory, spec.site, measurement)
        data = aggregate.hourly_rows(rows, ctx.window, fields, tag_columns, intervals)
        columns = [tag_column(spec, t, c) for t, c in tag_columns.items()] + HOUR_COLUMNS
        for f in fields:
            columns += stat_columns(spec.fields[f])
        return columns + [COMPLETENESS], data

    return build


def _street(measurement: str, what: str) -> Dataset:
    spec = catalogue_mod.default().measurement(measurement)
    return Dataset(
        name=f"{measurement}_hourly",
        title=f"IoTorino street sensors: hourly {what}",
        description=(
            f"Hourly aggregates (mean, minimum, maximum, count, completeness) per street-furniture unit "
            f"and local hour (Europe/Rome). Source measurement: {spec.description}"
        ),
        theme="ENVI",
        build=hourly(measurement, STREET_TAGS),
        keywords=("Torino", "IoT", what),
    )


def _classroom() -> Dataset:
    spec = catalogue_mod.default().measurement("indoor_climate")
    return Dataset(
        name="classroom_environment_hourly",
        title="IoTorino schools: hourly classroom environment",
        description=(
            "Hourly aggregates (mean, minimum, maximum, count, completeness) per school room and "
            f"local hour (Europe/Rome). Source measurement: {spec.description}"
        ),
        theme="EDUC",
        build=hourly("indoor_climate", {"school": "school_id", "room": "room_id"}),
        keywords=("Torino", "scuole", "CO2", "indoor climate"),
    )


def _energy() -> Dataset:
    from iotorino.export import energy_dataset

    return Dataset(
        name="school_energy_hourly",
        title="IoTorino schools: hourly electricity use",
        description=(
            "Hourly electricity imported per school meter and local hour (Europe/Rome), computed from the "
            "meters' cumulative registers with resets and roll-overs handled, with active power statistics."
        ),
        theme="ENER",
        build=energy_dataset.build,
        keywords=("Torino", "scuole", "energia", "electricity"),
    )


def registry() -> dict[str, Dataset]:
    """All datasets by name, in publishing order."""
    datasets = [
        _street("air_quality", "air quality"),
        _street("noise", "noise"),
        _street("weather", "weather"),
        _energy(),
        _classroom(),
    ]
    return {d.name: d for d in datasets}
