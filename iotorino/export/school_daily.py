"""The `school_energy_daily` and `classroom_air_daily` datasets: the school KPIs of one local day.

Both call the pure analyses of `iotorino.schools` on the day's hourly data; the
definitions are in docs/schools.md and in each column's description.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from iotorino.core import school_calendar
from iotorino.core.errors import ConfigError
from iotorino.export.columns import Column
from iotorino.export.energy_dataset import ELECTRICITY, HEAT, MeterKind, register_series
from iotorino.export.model import Built, ExportContext
from iotorino.export.window import HOUR_NS
from iotorino.schools import air, energy, heating, tariffs

FUELS = {"electricity": ELECTRICITY, "heat": HEAT}
# A day counts as heated when it used more than this much heat per m² of floor (kWh/m²): about 5 % of
# a heated school day in Turin (95 kWh/m² a year over some 150 heated days).
HEATING_ON_KWH_PER_M2 = 0.03
WARM_DAY_C = 16.0
EARLY_START_H = 2.0


def _require(inventory):
    if inventory is None or not getattr(inventory, "schools", None):
        raise ConfigError("inventory", "the school datasets need the inventory's schools", "hardware/schools.json")
    return inventory


def _hourly_index(ctx: ExportContext) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(ctx.window.hour_starts_ns(), unit="ns", utc=True))


def _main_meter(inventory, school, measurement: str) -> str | None:
    for meter in school.meters:
        if meter.role == "main" and measurement in inventory.profiles[meter.profile].measurements:
            return meter.id
    return None


def _opening(school) -> energy.OpeningHours:
    return energy.OpeningHours.parse(school.opening_hours)


def _outdoor_means(ctx: ExportContext) -> dict[str, dict[int, float]]:
    """Per school, the hourly mean outdoor temperature of its station (hour start ns -> °C)."""
    rows = ctx.hourly_stats("outdoor_climate", ["temperature"], ["school"])
    means: dict[str, dict[int, float]] = {}
    for row in rows:
        value = row.values.get("temperature_mean")
        if value is not None and row.values.get("temperature_count"):
            means.setdefault(row.tags.get("school", ""), {})[row.time_ns] = float(value)
    return means


ENERGY_COLUMNS = [
    Column("school_id", pa.string(), "School id (hardware/schools.json)."),
    Column("fuel", pa.string(), "electricity (the main incomer) or heat (the main heat meter)."),
    Column("local_date", pa.date32(), "Local day (Europe/Rome)."),
    Column("day_type", pa.string(), "school, weekend or holiday (national holidays, Turin's patron saint, "
           "Piedmont's school breaks and the summer; data/school-calendars)."),
    Column("calendar_known", pa.bool_(), "False when no regional school-year file covers the day: then only "
           "weekends and national holidays are known."),
    Column("kwh", pa.float64(), "Energy used in the covered part of the day, from the main meter's register.", "kWh"),
    Column("covered_share", pa.float64(), "Share of the day's hours (23, 24 or 25) covered by register intervals "
           "whose consumption is attributed.", "1"),
    *[Column(f"kwh_{t}", pa.float64(), f"kWh in hours of day type {t} (school_open: a school day within the "
             "opening hours; school_closed: a school day outside them).", "kWh") for t in energy.DAY_TYPES],
    Column("out_of_hours_share", pa.float64(), "1 - kWh(school_open) / kWh.", "1"),
    Column("baseload_kw", pa.float64(), "Mean of the day's 4 lowest hourly kWh (hourly mean power); null with "
           "fewer than 20 hours of data.", "kW"),
    Column("peak_kw", pa.float64(), "The day's highest hourly mean power.", "kW"),
    Column("kwh_per_m2", pa.float64(), "kwh / gross floor area.", "kWh/m2"),
    Column("kwh_per_pupil", pa.float64(), "kwh / enrolled pupils.", "kWh"),
    Column("cost_eur", pa.float64(), "kwh x the fuel's price in data/energy-tariffs.yaml.", "EUR"),
    Column("co2e_kg", pa.float64(), "kwh x the fuel's emission factor in data/energy-tariffs.yaml.", "kg"),
    Column("outdoor_mean_c", pa.float64(), "Mean of the school outdoor station's hourly mean temperatures; "
           "null with fewer than 18 hours.", "Cel"),
    Column("degree_days", pa.float64(), "Gradi giorno (DPR 412/1993): max(0, 20 - outdoor_mean_c) inside the "
           "heating season of climate zone E (15 October - 15 April), 0 outside.", "K.d"),
    Column("heating_finding", pa.string(), "Heat only: heating on out_of_season, on a weekend, holiday, "
           f"warm_day (outdoor mean >= {WARM_DAY_C:g} C) or early_start (more than {EARLY_START_H:g} h before "
           f"opening); on means more than {HEATING_ON_KWH_PER_M2} kWh per m2 of floor in the day."),
]


def build_energy(ctx: ExportContext) -> Built:
    """One local day of `school_energy_daily`: per school and fuel, the day's KPIs."""
    inventory = _require(ctx.inventory)
    calendar, prices = school_calendar.default(), tariffs.default()
    index = _hourly_index(ctx)
    day = ctx.window.day
    outdoor = _outdoor_means(ctx)
    series = {fuel: register_series(ctx, kind) for fuel, kind in FUELS.items()}
    data: dict[str, list] = {c.name: [] for c in ENERGY_COLUMNS}
    for school in sorted(inventory.schools.values(), key=lambda s: s.id):
        temps = pd.Series([outdoor.get(school.id, {}).get(h, np.nan) for h in ctx.window.hour_starts_ns()],
                          index=index, dtype=float)
        daily_c = heating.daily_mean_temperature(temps).get(day, np.nan)
        gg = heating.degree_days(pd.Series([daily_c], index=[day])).iloc[0]
        school_day = calendar.day(day, school.level)
        for fuel, kind in FUELS.items():
            meter = _main_meter(inventory, school, kind.measurement)
            if meter is None:
                continue
            register = series[fuel].get((school.id, meter))
            kwh = _hourly_kwh(register, ctx.window.hour_starts_ns(), index)
            row = _energy_row(school, fuel, kind, day, school_day, kwh, register, ctx, calendar, prices)
            row.update(outdoor_mean_c=_none(daily_c), degree_days=_none(gg),
                       heating_finding=_heating_finding(school, kwh, daily_c, school_day, day) if fuel == "heat" else None)
            for name in data:
                data[name].append(row[name])
    return Built(ENERGY_COLUMNS, data)


def _hourly_kwh(register, hour_starts: list[int], index: pd.DatetimeIndex) -> pd.Series:
    values = []
    for hour in hour_starts:
        energy_hour = register.hours.get(hour) if register else None
        values.append(energy_hour.kwh if energy_hour and energy_hour.attributed else np.nan)
    return pd.Series(values, index=index, dtype=float)


def _energy_row(school, fuel, kind: MeterKind, day: date, school_day, kwh: pd.Series, register, ctx,
                calendar, prices) -> dict:
    types = energy.day_types(kwh.index, calendar, _opening(school), school.level)
    by_type = energy.kwh_by_day_type(kwh, types)
    total = float(np.nansum(kwh.to_numpy())) if kwh.notna().any() else None
    covered = sum(h.covered_ns for h in register.hours.values()) / (len(kwh) * HOUR_NS) if register else 0.0
    cost, co2e = energy.cost_and_emissions(total, prices[fuel]) if total is not None else (None, None)
    per_m2, per_pupil = (energy.per_area_and_pupil(total, school.floor_area_m2, school.pupils)
                         if total is not None else (None, None))
    baseload = energy.daily_baseload_kw(kwh).get(day, np.nan) if kwh.notna().any() else np.nan
    peak = energy.daily_peak_kw(kwh).get(day, np.nan) if kwh.notna().any() else np.nan
    return {
        "school_id": school.id, "fuel": fuel, "local_date": day, "day_type": school_day.kind,
        "calendar_known": school_day.calendar_known, "kwh": total, "covered_share": covered,
        **{f"kwh_{t}": (by_type[t] if total is not None else None) for t in energy.DAY_TYPES},
        "out_of_hours_share": energy.out_of_hours_share(by_type) if total is not None else None,
        "baseload_kw": _none(baseload), "peak_kw": _none(peak),
        "kwh_per_m2": per_m2, "kwh_per_pupil": per_pupil, "cost_eur": cost, "co2e_kg": co2e,
    }


def _heating_finding(school, kwh: pd.Series, daily_c: float, school_day, day: date) -> str | None:
    opens = _opening(school).opens_at(day.weekday()) if school_day.kind == "school" else None
    findings = heating.heating_findings(
        kwh, pd.Series([daily_c], index=[day]), {day: school_day.kind}, {day: opens},
        on_threshold_kwh=HEATING_ON_KWH_PER_M2 * school.floor_area_m2, warm_day_c=WARM_DAY_C,
        early_start_h=EARLY_START_H)
    return findings[0].kind if findings else None


def _none(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else float(value)


AIR_COLUMNS = [
    Column("school_id", pa.string(), "School id (hardware/schools.json)."),
    Column("room_id", pa.string(), "Room id within the school."),
    Column("local_date", pa.date32(), "Local day (Europe/Rome)."),
    Column("teaching_hours", pa.int16(), "Hours of the day within the school's opening hours on a school day.",
           "count"),
    Column("capture", pa.float64(), "Share of teaching hours with a CO2 value.", "1"),
    Column("co2_teaching_mean_ppm", pa.float64(), "Mean of the teaching hours' hourly mean CO2.", "ppm"),
    Column("co2_teaching_max_ppm", pa.float64(), "Highest hourly mean CO2 in teaching hours.", "ppm"),
    *[Column(f"co2_share_{name}", pa.float64(), f"Share of teaching hours whose hourly mean CO2 is in band "
             f"{name}: [{low:g}, {high:g}) ppm (UBA guide values, with the BB101 1,500 ppm split).", "1")
      for name, low, high in air.CO2_BANDS],
    Column("temperature_teaching_mean_c", pa.float64(), "Mean of the teaching hours' hourly mean temperature.", "Cel"),
    *[Column(f"temperature_share_{name}", pa.float64(), f"Heating season only: share of teaching hours {what} "
             "20 C +/- 2 C (DPR 412/1993); null outside the season.", "1")
      for name, what in (("cold", "below"), ("comfortable", "within"), ("warm", "above"))],
    Column("humidity_in_band_share", pa.float64(), "Share of teaching hours with relative humidity within 30-60 %.",
           "1"),
]


def build_air(ctx: ExportContext) -> Built:
    """One local day of `classroom_air_daily`: per classroom, the day's teaching-hours air KPIs."""
    inventory = _require(ctx.inventory)
    calendar, index, day = school_calendar.default(), _hourly_index(ctx), ctx.window.day
    hours = ctx.window.hour_starts_ns()
    means: dict[tuple[str, str], dict[int, dict]] = {}
    for row in ctx.hourly_stats("indoor_climate", ["co2", "temperature", "relative_humidity"], ["school", "room"]):
        means.setdefault((row.tags.get("school", ""), row.tags.get("room", "")), {})[row.time_ns] = row.values
    season = heating.in_heating_season(day)
    data: dict[str, list] = {c.name: [] for c in AIR_COLUMNS}
    for school in sorted(inventory.schools.values(), key=lambda s: s.id):
        teaching = energy.day_types(index, calendar, _opening(school), school.level) == energy.SCHOOL_OPEN
        for room in school.rooms:
            values = means.get((school.id, room.id), {})
            series = {f: np.array([_mean(values.get(h), f) for h in hours]) for f in ("co2", "temperature",
                                                                                      "relative_humidity")}
            co2 = series["co2"]
            n_teaching = int(teaching.sum())
            with_co2 = int((teaching & ~np.isnan(co2)).sum())
            shares = air.co2_band_shares(co2, teaching)
            temps = air.temperature_shares(series["temperature"], teaching) if season else {}
            kept = co2[teaching & ~np.isnan(co2)]
            row = {
                "school_id": school.id, "room_id": room.id, "local_date": day, "teaching_hours": n_teaching,
                "capture": with_co2 / n_teaching if n_teaching else None,
                "co2_teaching_mean_ppm": air.teaching_mean(co2, teaching),
                "co2_teaching_max_ppm": float(kept.max()) if len(kept) else None,
                **{f"co2_share_{name}": shares[name] for name, _, _ in air.CO2_BANDS},
                "temperature_teaching_mean_c": air.teaching_mean(series["temperature"], teaching),
                **{f"temperature_share_{name}": temps.get(name) for name in ("cold", "comfortable", "warm")},
                "humidity_in_band_share": air.humidity_share(series["relative_humidity"], teaching),
            }
            for name in data:
                data[name].append(row[name])
    return Built(AIR_COLUMNS, data)


def _mean(values: dict | None, field: str) -> float:
    if not values or not values.get(f"{field}_count") or values.get(f"{field}_mean") is None:
        return np.nan
    return float(values[f"{field}_mean"])
