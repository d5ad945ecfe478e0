"""The registry of exported datasets: what each one is, and how a day of it is built.

Every dataset builds one local day into columns (`Column` specs + data lists);
`iotorino.export.run` writes them. Names are the portal's dataset ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import pyarrow as pa

from iotorino.core import catalogue as catalogue_mod
from iotorino.export import aggregate, expected
from iotorino.export.columns import COMPLETENESS, HOUR_COLUMNS, Column, stat_columns, tag_column
from iotorino.export.model import Built, ExportContext

STREET_TAGS = {"unit": "unit_id", "district": "district"}


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
        rows = ctx.hourly_stats(measurement, fields, list(tag_columns))
        intervals = expected.intervals(ctx.inventory, spec.site, measurement)
        data = aggregate.hourly_rows(rows, ctx.window, fields, tag_columns, intervals)
        columns = [tag_column(spec, t, c) for t, c in tag_columns.items()] + HOUR_COLUMNS
        if "district" in data:  # a number, as in the stations table, so the two join without casts
            data["district"] = [int(d) if d and d.isdigit() else None for d in data["district"]]
            columns = [replace(c, type=pa.int8()) if c.name == "district" else c for c in columns]
        for f in fields:
            columns += stat_columns(spec.fields[f])
        return Built(columns + [COMPLETENESS], data)

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


def _dimension(name: str, what: str, theme: str, build) -> Dataset:
    def built(ctx: ExportContext) -> Built:
        return Built(*build(ctx))

    return Dataset(
        name=name,
        title=f"IoTorino: {what}",
        description=f"Daily snapshot of the {what} from the IoTorino inventory, as GeoParquet 1.1 points (lon/lat).",
        theme=theme,
        build=built,
        keywords=("Torino", "IoT", "GeoParquet"),
    )


def _quality() -> Dataset:
    from iotorino.export import quality

    return Dataset(
        name="data_quality_daily",
        title="IoTorino: daily data quality per device",
        description=(
            "Per device and measurement and local day (Europe/Rome): completeness against the device profile's "
            "reporting interval, fields stuck at a constant value, values outside the sensor's measuring range, "
            "last value seen and whether the device has been silent for more than a day."
        ),
        theme="TECH",
        build=quality.build,
        keywords=("Torino", "IoT", "data quality"),
    )


def _beacons() -> Dataset:
    from iotorino.export import beacons

    return Dataset(
        name="beacon_fleet_daily",
        title="IoTorino: daily BLE beacon fleet health",
        description=(
            "Per registered BLE beacon and local day (Europe/Rome): share of the day it was heard, gateways, "
            "advertisements heard, battery, last fleet status. Aggregates only: no personal data, no addresses."
        ),
        theme="TECH",
        build=beacons.build,
        keywords=("Torino", "BLE", "beacon"),
    )


def registry() -> dict[str, Dataset]:
    """All datasets by name, in publishing order."""
    from iotorino.export import dimensions

    datasets = [
        _dimension("stations", "street-furniture sensor units", "ENVI", dimensions.stations),
        _dimension("schools", "monitored schools", "EDUC", dimensions.schools),
        _street("air_quality", "air quality"),
        _street("noise", "noise"),
        _street("weather", "weather"),
        _energy(),
        _classroom(),
        _quality(),
        _beacons(),
    ]
    return {d.name: d for d in datasets}
