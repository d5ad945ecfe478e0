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
    energetic = sorted(catalogue_mod.default().energetic_fields(measurement))
    averaging = (
        f" The means of the sound levels ({', '.join(energetic)}) are energetic, 10·lg(mean(10^(L/10))) of the "
        "hour's readings, never arithmetic means of decibels." if energetic else ""
    )
    return Dataset(
        name=f"{measurement}_hourly",
        title=f"IoTorino street sensors: hourly {what}",
        description=(
            f"Hourly aggregates (mean, minimum, maximum, count, completeness) per street-furniture unit "
            f"and local hour (Europe/Rome). Source measurement: {spec.description}{averaging}"
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


def _heat() -> Dataset:
    from iotorino.export import energy_dataset

    return Dataset(
        name="school_heat_hourly",
        title="IoTorino schools: hourly heat use",
        description=(
            "Hourly heat delivered per school heat meter (district-heating substation or boiler output) and local "
            "hour (Europe/Rome), computed from the meters' cumulative registers, with thermal power statistics."
        ),
        theme="ENER",
        build=energy_dataset.build_heat,
        keywords=("Torino", "scuole", "riscaldamento", "heat"),
    )


def _school_daily() -> list[Dataset]:
    from iotorino.export import school_daily

    return [
        Dataset(
            name="school_energy_daily",
            title="IoTorino schools: daily energy KPIs",
            description=(
                "Per school, fuel (electricity, heat) and local day (Europe/Rome): kWh by day type (school day "
                "open and closed, weekend, holiday), out-of-hours share, baseload and peak kW, kWh per m² and per "
                "pupil, cost and CO2e, outdoor temperature, degree days and heating where it should be off. "
                "Definitions in docs/schools.md."
            ),
            theme="ENER",
            build=school_daily.build_energy,
            keywords=("Torino", "scuole", "energia", "KPI"),
        ),
        Dataset(
            name="classroom_air_daily",
            title="IoTorino schools: daily classroom air in teaching hours",
            description=(
                "Per classroom and local day (Europe/Rome): teaching hours, CO2 mean, maximum and bands, "
                "temperature comfort in the heating season and humidity, over the school's opening hours. "
                "Definitions in docs/schools.md."
            ),
            theme="EDUC",
            build=school_daily.build_air,
            keywords=("Torino", "scuole", "CO2", "aria"),
        ),
    ]


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
        name=quality.DATASET,
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


def _school_outdoor() -> Dataset:
    spec = catalogue_mod.default().measurement("outdoor_climate")
    return Dataset(
        name="school_outdoor_hourly",
        title="IoTorino schools: hourly outdoor station",
        description=(
            "Hourly aggregates (mean, minimum, maximum, count, completeness) per school outdoor station and "
            f"local hour (Europe/Rome). Source measurement: {spec.description}"
        ),
        theme="EDUC",
        build=hourly("outdoor_climate", {"school": "school_id"}),
        keywords=("Torino", "scuole", "CO2", "outdoor climate"),
    )


def _air_indicators() -> list[Dataset]:
    from iotorino.export import air_quality as aq

    indicative_en = " Indicative, not validated: low-cost sensors, not reference stations."
    return [
        Dataset(
            name="air_quality_index_hourly",
            title="IoTorino street sensors: hourly European Air Quality Index",
            description=(
                "Per street unit and local hour: each pollutant's hourly mean, valid with 75 % of the hour covered "
                "(Directive 2008/50/EC Annex XI A), its coverage, and the European Air Quality Index (EEA, 2024 "
                "bands): the poorest band of the valid values." + indicative_en
            ),
            theme="ENVI",
            build=aq.build_index_hourly,
            keywords=("Torino", "qualità dell'aria", "air quality index", "EAQI"),
        ),
        Dataset(
            name="air_quality_daily",
            title="IoTorino street sensors: daily air-quality means by the directive's validity rules",
            description=(
                "Per street unit, local day and pollutant: the daily mean of the valid hours, valid with 75 % of the "
                "day's hours and at least 18 (Directive 2008/50/EC Annex XI A); an invalid day is published as "
                "invalid with its capture, never as a number." + indicative_en
            ),
            theme="ENVI",
            build=aq.build_daily,
            keywords=("Torino", "qualità dell'aria", "PM10", "NO2", "air quality"),
        ),
        Dataset(
            name="air_quality_indicators",
            title="IoTorino street sensors: year-to-date air-quality indicators against the EU limit values",
            description=(
                "Per street unit, local day, legal regime (Directive 2008/50/EC in force; Directive (EU) 2024/2881 "
                "from 2030) and limit value: exceedances so far this year, the percentile that goes with the allowed "
                "count, exceedances still allowed, a projection to the year's end, annual means with data capture."
                + indicative_en
            ),
            theme="ENVI",
            build=aq.build_indicators,
            keywords=("Torino", "qualità dell'aria", "valori limite", "PM10", "NO2", "limit values"),
        ),
        Dataset(
            name="noise_daily",
            title="IoTorino street sensors: daily noise levels L_day, L_evening, L_night, L_den",
            description=(
                "Per street unit and local day (06:00 to 06:00 of the next day, Europe/Rome): L_day 06-20, "
                "L_evening 20-22, L_night 22-06 and L_den with +5/+10 dB penalties (D.Lgs. 194/2005 Annex 1), "
                "and the day 06-22 and night 22-06 L_Aeq of DPCM 14/11/1997, by energetic averaging, with the "
                "share of each period covered; valid with 75 % coverage." + indicative_en
            ),
            theme="ENVI",
            build=aq.build_noise_daily,
            keywords=("Torino", "rumore", "L_den", "noise"),
        ),
    ]


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
        _heat(),
        _classroom(),
        *_school_daily(),
        _school_outdoor(),
        *_air_indicators(),
        _quality(),
        _beacons(),
    ]
    return {d.name: d for d in datasets}
