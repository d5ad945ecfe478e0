"""The `school_energy_hourly` dataset: per school meter and hour, consumption from the register and power statistics."""

from __future__ import annotations

import pyarrow as pa

from iotorino.core import catalogue as catalogue_mod
from iotorino.export import expected, query
from iotorino.export.aggregate import completeness
from iotorino.export.columns import COMPLETENESS, HOUR_COLUMNS, Column, stat_columns, tag_column
from iotorino.core.errors import Rejected
from iotorino.export.energy import MAX_GAP_S, NS, ROLLOVER_SHARE, RegisterSeries, register_modulus
from iotorino.export.model import Built, ExportContext
from iotorino.export.query import STATS
from iotorino.export.window import HOUR_NS, local_label

MEASUREMENT = "energy"
REGISTER = "total_active_energy_import"
POWER = "total_active_power"
TAGS = {"school": "school_id", "meter": "meter_id"}


def columns(spec) -> list[Column]:
    """Output columns; register and power texts come from the catalogue."""
    register = spec.fields[REGISTER]
    return (
        [tag_column(spec, t, c) for t, c in TAGS.items()]
        + HOUR_COLUMNS
        + [
            Column(
                "energy_import_kwh",
                pa.float64(),
                "Active energy imported during the covered part of the hour, from differences of: "
                f"{register.description} Intervals between readings are spread over hours by time. Not "
                f"attributed: gaps over {MAX_GAP_S // 3600} h, rises larger than the meter could draw (a "
                "replacement meter showing a larger value) and falls that are not roll-overs (a meter "
                f"change or reset). A fall from at least {ROLLOVER_SHARE:.0%} of the register's range (from "
                "the meter's profile in hardware/profiles.yaml) is a roll-over and counts the energy up to "
                "the wrap and after it.",
                register.unit,
            ),
            Column(
                "energy_covered_share",
                pa.float64(),
                "Share of the hour (0-1) covered by register intervals whose consumption is attributed: "
                "below 1 the hour is partial (readings started or stopped inside it, a gap or a "
                "discontinuity), and energy_import_kwh covers only that share.",
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
        + stat_columns(spec.fields[POWER])
        + [COMPLETENESS]
    )


def build(ctx: ExportContext) -> Built:
    """One local day of `school_energy_hourly` (see module docstring)."""
    spec = catalogue_mod.default().measurement(MEASUREMENT)
    max_kw = spec.fields[POWER].high / 1000
    window, tags = ctx.window, list(TAGS)
    meters: dict[tuple[str, str], RegisterSeries] = {}

    def series(row) -> RegisterSeries:
        key = (row.tags.get("school", ""), row.tags.get("meter", ""))
        if key not in meters:
            meters[key] = RegisterSeries(window.start_ns, window.end_ns, max_kw, _modulus(ctx.inventory, *key))
        return meters[key]

    before, after = query.edge_points(
        ctx.client, MEASUREMENT, REGISTER, tags, window.start_ns, window.end_ns, MAX_GAP_S * NS
    )
    for row in before:
        series(row).add(row.time_ns, float(row.values[REGISTER]))
    for row in query.raw_points(
        ctx.client, MEASUREMENT, [REGISTER], tags, window.start_ns, window.end_ns, chunk_hours=ctx.chunk_hours
    ):
        if row.values.get(REGISTER) is not None:
            series(row).add(row.time_ns, float(row.values[REGISTER]))
    for row in after:
        series(row).add(row.time_ns, float(row.values[REGISTER]))

    power = {
        (r.tags.get("school", ""), r.tags.get("meter", ""), r.time_ns): r.values
        for r in query.hourly_stats(
            ctx.client, MEASUREMENT, [POWER], tags, window.start_ns, window.end_ns, chunk_hours=ctx.chunk_hours
        )
    }
    keys = {(s, m, h) for (s, m), reg in meters.items() for h in reg.hours} | set(power)
    interval_s = expected.intervals(ctx.inventory, spec.site, MEASUREMENT)
    cols = columns(spec)
    data: dict[str, list] = {c.name: [] for c in cols}
    for school, meter, hour in sorted(keys):
        reg = meters.get((school, meter))
        energy = reg.hours.get(hour) if reg else None
        stats = power.get((school, meter, hour), {})
        power_count = int(stats.get(f"{POWER}_count") or 0)
        readings = energy.readings if energy else 0
        data["school_id"].append(school or None)
        data["meter_id"].append(meter or None)
        data["date_observed_from"].append(hour)
        data["date_observed_to"].append(hour + HOUR_NS)
        data["local_time_from"].append(local_label(hour))
        data["energy_import_kwh"].append(energy.kwh if energy and energy.attributed else None)
        data["energy_covered_share"].append(energy.covered_ns / HOUR_NS if energy else 0.0)
        data["register_count"].append(readings)
        data["register_discontinuities"].append(energy.discontinuities if energy else 0)
        for stat in STATS:
            value = stats.get(f"{POWER}_{stat}")
            data[f"{POWER}_{stat}"].append(power_count if stat == "count" else (value if power_count else None))
        data["completeness"].append(
            completeness(max(readings, power_count), interval_s({"school": school, "meter": meter}))
        )
    return Built(cols, data)


def _modulus(inventory, school: str, meter: str) -> float | None:
    """The register's wrap-around value from the meter's profile; None for a meter not in the inventory."""
    try:
        quantity = inventory.profile_of("school", school, meter).quantities(MEASUREMENT).get(REGISTER)
    except Rejected:
        return None
    return register_modulus(quantity.high) if quantity is not None else None
