"""The `school_energy_hourly` dataset: per school meter and hour, consumption from the register and power statistics."""

from __future__ import annotations

import pyarrow as pa

from iotorino.core import catalogue as catalogue_mod
from iotorino.export import expected, query
from iotorino.export.aggregate import completeness
from iotorino.export.columns import COMPLETENESS, HOUR_COLUMNS, Column, stat_columns, tag_column
from iotorino.export.energy import MAX_GAP_S, NS, RegisterSeries
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
                "Active energy imported during the hour, from differences of: "
                f"{register.description} Meter resets and roll-overs handled; intervals between "
                f"readings are spread over hours by time; gaps over {MAX_GAP_S // 3600} h are not attributed.",
                register.unit,
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
            meters[key] = RegisterSeries(window.start_ns, window.end_ns, max_kw)
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
        for r in ctx.hourly_stats(MEASUREMENT, [POWER], tags)
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
        data["register_count"].append(readings)
        data["register_discontinuities"].append(energy.discontinuities if energy else 0)
        for stat in STATS:
            value = stats.get(f"{POWER}_{stat}")
            data[f"{POWER}_{stat}"].append(power_count if stat == "count" else (value if power_count else None))
        data["completeness"].append(
            completeness(max(readings, power_count), interval_s({"school": school, "meter": meter}))
        )
    return Built(cols, data)
