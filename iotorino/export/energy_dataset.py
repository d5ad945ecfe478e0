"""The `school_energy_hourly` and `school_heat_hourly` datasets: per school meter and hour, consumption
from the meter's cumulative register (iotorino.schools.registers) and power statistics.

`register_series` is also what the daily school KPIs (iotorino.export.school_daily) start from.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from iotorino.core import catalogue as catalogue_mod
from iotorino.export import expected, query
from iotorino.export.aggregate import completeness
from iotorino.export.columns import COMPLETENESS, HOUR_COLUMNS, Column, stat_columns, tag_column
from iotorino.core.errors import Rejected
from iotorino.schools.registers import MAX_GAP_S, NS, ROLLOVER_SHARE, RegisterSeries, register_modulus
from iotorino.export.model import Built, ExportContext
from iotorino.export.query import STATS
from iotorino.export.window import HOUR_NS, local_label

TAGS = {"school": "school_id", "meter": "meter_id"}


@dataclass(frozen=True)
class MeterKind:
    """A kind of school meter: its measurement, register and power fields, and its output columns' prefix."""

    measurement: str
    register: str
    power: str
    prefix: str  # <prefix>_kwh, <prefix>_covered_share


ELECTRICITY = MeterKind("energy", "total_active_energy_import", "total_active_power", "energy_import")
HEAT = MeterKind("heat", "heat_energy", "heat_power", "heat")
# Kept for callers of the electricity dataset's names.
MEASUREMENT, REGISTER, POWER = ELECTRICITY.measurement, ELECTRICITY.register, ELECTRICITY.power


def columns(spec, kind: MeterKind = ELECTRICITY) -> list[Column]:
    """Output columns; register and power texts come from the catalogue."""
    register = spec.fields[kind.register]
    what = "Active energy imported" if kind is ELECTRICITY else "Heat delivered"
    return (
        [tag_column(spec, t, c) for t, c in TAGS.items()]
        + HOUR_COLUMNS
        + [
            Column(
                f"{kind.prefix}_kwh",
                pa.float64(),
                f"{what} during the covered part of the hour, from differences of: "
                f"{register.description} Intervals between readings are spread over hours by time. Not "
                f"attributed: gaps over {MAX_GAP_S // 3600} h, rises larger than the meter could draw (a "
                "replacement meter showing a larger value) and falls that are not roll-overs (a meter "
                f"change or reset). A fall from at least {ROLLOVER_SHARE:.0%} of the register's range (from "
                "the meter's profile in hardware/profiles.yaml) is a roll-over and counts the energy up to "
                "the wrap and after it.",
                register.unit,
            ),
            Column(
                f"{kind.prefix.split('_')[0]}_covered_share",
                pa.float64(),
                "Share of the hour (0-1) covered by register intervals whose consumption is attributed: "
                "below 1 the hour is partial (readings started or stopped inside it, a gap or a "
                f"discontinuity), and {kind.prefix}_kwh covers only that share.",
                "1",
            ),
            Column("register_count", pa.int32(), f"Number of readings in the hour of: {register.description}", "count"),
            Column(
                "register_discontinuities",
                pa.int32(),
                "Register readings in the hour that fell (reset or roll-over) or jumped more than the meter "
                "could draw; such steps are handled, never counted as negative or spiking consumption.",
                "count",
            ),
        ]
        + stat_columns(spec.fields[kind.power])
        + [COMPLETENESS]
    )


def register_series(ctx: ExportContext, kind: MeterKind) -> dict[tuple[str, str], RegisterSeries]:
    """Per (school, meter): the day's register readings turned into hourly consumption."""
    spec = catalogue_mod.default().measurement(kind.measurement)
    max_kw = spec.fields[kind.power].high / 1000
    window, tags, register = ctx.window, list(TAGS), kind.register
    meters: dict[tuple[str, str], RegisterSeries] = {}

    def series(row) -> RegisterSeries:
        key = (row.tags.get("school", ""), row.tags.get("meter", ""))
        if key not in meters:
            modulus = _modulus(ctx.inventory, kind, *key)
            meters[key] = RegisterSeries(window.start_ns, window.end_ns, max_kw, modulus)
        return meters[key]

    before, after = query.edge_points(
        ctx.client, kind.measurement, register, tags, window.start_ns, window.end_ns, MAX_GAP_S * NS
    )
    for row in before:
        series(row).add(row.time_ns, float(row.values[register]))
    for row in ctx.raw_points(kind.measurement, [register], tags, window.start_ns, window.end_ns):
        if row.values.get(register) is not None:
            series(row).add(row.time_ns, float(row.values[register]))
    for row in after:
        series(row).add(row.time_ns, float(row.values[register]))
    return meters


def builder(kind: MeterKind):
    """The day builder of one meter kind's hourly dataset."""

    def build(ctx: ExportContext) -> Built:
        spec = catalogue_mod.default().measurement(kind.measurement)
        window, tags, power_field = ctx.window, list(TAGS), kind.power
        meters = register_series(ctx, kind)
        power = {
            (r.tags.get("school", ""), r.tags.get("meter", ""), r.time_ns): r.values
            for r in ctx.hourly_stats(kind.measurement, [power_field], tags)
        }
        keys = {(s, m, h) for (s, m), reg in meters.items() for h in reg.hours} | set(power)
        interval_s = expected.intervals(ctx.inventory, spec.site, kind.measurement)
        cols = columns(spec, kind)
        kwh_col, share_col = cols[len(TAGS) + len(HOUR_COLUMNS)].name, cols[len(TAGS) + len(HOUR_COLUMNS) + 1].name
        data: dict[str, list] = {c.name: [] for c in cols}
        for school, meter, hour in sorted(keys):
            reg = meters.get((school, meter))
            energy = reg.hours.get(hour) if reg else None
            stats = power.get((school, meter, hour), {})
            power_count = int(stats.get(f"{power_field}_count") or 0)
            readings = energy.readings if energy else 0
            data["school_id"].append(school or None)
            data["meter_id"].append(meter or None)
            data["date_observed_from"].append(hour)
            data["date_observed_to"].append(hour + HOUR_NS)
            data["local_time_from"].append(local_label(hour))
            data[kwh_col].append(energy.kwh if energy and energy.attributed else None)
            data[share_col].append(energy.covered_ns / HOUR_NS if energy else 0.0)
            data["register_count"].append(readings)
            data["register_discontinuities"].append(energy.discontinuities if energy else 0)
            for stat in STATS:
                value = stats.get(f"{power_field}_{stat}")
                data[f"{power_field}_{stat}"].append(power_count if stat == "count" else (value if power_count else None))
            data["completeness"].append(
                completeness(max(readings, power_count), interval_s({"school": school, "meter": meter}))
            )
        return Built(cols, data)

    return build


build = builder(ELECTRICITY)
build_heat = builder(HEAT)


def _modulus(inventory, kind: MeterKind, school: str, meter: str) -> float | None:
    """The register's wrap-around value from the meter's profile; None for a meter not in the inventory."""
    try:
        quantity = inventory.profile_of("school", school, meter).quantities(kind.measurement).get(kind.register)
    except Rejected:
        return None
    return register_modulus(quantity.high) if quantity is not None else None
