"""The `beacon_fleet_daily` dataset: per registered beacon and local day, fleet health in aggregates only.

Per beacon: the share of the day's minutes in which any gateway heard it, how
many gateways did, the advertisements heard, the battery (last and lowest mV,
and as a 0-1 level against the registry's nominal voltage), the last fleet
status, and when it was last heard. Nothing about people: the store holds no
MAC addresses, and this table holds no times finer than the day.
Measurement and field names come from the catalogue (`beacon_sighting`,
`beacon_status`, written by the BLE collector and its health monitor).
"""

from __future__ import annotations

import pyarrow as pa

from iotorino.core import catalogue as catalogue_mod
from iotorino.core.errors import ConfigError
from iotorino.export import query
from iotorino.export.columns import UTC_MS, Column
from iotorino.export.model import Built, ExportContext

SIGHTING = "beacon_sighting"
STATUS = "beacon_status"
# The fleet status persists until it changes: look this far back for the last one.
STATUS_LOOKBACK_DAYS = 30
DAY_NS = 86_400 * 1_000_000_000


def columns(catalogue) -> list[Column]:
    """Output columns; field texts and units come from the catalogue."""
    sighting, status = catalogue.measurement(SIGHTING), catalogue.measurement(STATUS)
    battery = sighting.fields["battery_mv"]
    return [
        Column("beacon_id", pa.string(), sighting.tags["beacon"]),
        Column("host_unit_id", pa.string(), "Street-furniture unit the beacon is mounted on (registry)."),
        Column("share_of_day_seen", pa.float64(), "Share (0-1) of the local day's minutes in which at least one gateway heard the beacon.", "1"),
        Column("gateways", pa.int16(), f"Distinct gateways that heard it during the day. Gateway: {sighting.tags['gateway']}", "count"),
        Column("sightings", pa.int64(), f"Sum over the day of: {sighting.fields['sightings'].description}", "count"),
        Column("battery_mv_last", pa.int32(), f"Last of the day: {battery.description}", battery.unit),
        Column("battery_mv_min", pa.int32(), f"Lowest of the day: {battery.description}", battery.unit),
        Column("battery_level", pa.float64(), "battery_mv_last ÷ the beacon's nominal fresh-battery voltage (FIWARE batteryLevel, 0-1).", "1"),
        Column("status_code", pa.int8(), f"Last fleet status by the day's end. {status.fields['status_code'].description}"),
        Column("battery_days_left", pa.float64(), f"Last by the day's end: {status.fields['battery_days_left'].description}", status.fields["battery_days_left"].unit),
        Column("last_seen", UTC_MS, "Start of the last reading window in which a gateway heard it (up to the day's end), UTC.", "UTC"),
    ]


def build(ctx: ExportContext) -> Built:
    """One local day of `beacon_fleet_daily`: a row per registered beacon (and per unknown one heard)."""
    catalogue = catalogue_mod.default()
    if SIGHTING not in catalogue.measurements or STATUS not in catalogue.measurements:
        raise ConfigError("catalogue", f"needs the measurements {SIGHTING} and {STATUS}", "schemas/catalogue.yaml with the BLE entries")
    window = ctx.window
    registry = dict(getattr(ctx.inventory, "beacons", {}) or {})
    state: dict[str, dict] = {b: _empty() for b in registry}

    def get(row) -> dict:
        return state.setdefault(row.tags.get("beacon", ""), _empty())

    for lo, hi in query.chunks(window.start_ns, window.end_ns, ctx.chunk_hours):
        minutes = (
            f'SELECT count("n") AS "minutes" FROM (SELECT count("sightings") AS "n" FROM "{SIGHTING}" '
            f'WHERE time >= {lo} AND time < {hi} GROUP BY time(1m), "beacon" fill(none)) GROUP BY "beacon"'
        )
        for row in query.rows(ctx.client.query(minutes, epoch="ns")):
            get(row)["minutes"] += int(row.values["minutes"] or 0)
        per_gateway = 'sum("sightings") AS "sightings", min("battery_mv") AS "battery_min"'
        for row in query.select(ctx.client, SIGHTING, per_gateway, ["beacon", "gateway"], lo, hi):
            s = get(row)
            s["gateways"].add(row.tags.get("gateway", ""))
            s["sightings"] += int(row.values["sightings"] or 0)
            if row.values["battery_min"] is not None:
                low = int(row.values["battery_min"])
                s["battery_min"] = low if s["battery_min"] is None else min(s["battery_min"], low)
    for row in query.select(ctx.client, SIGHTING, 'last("battery_mv")', ["beacon"], window.start_ns, window.end_ns):
        get(row)["battery_last"] = int(row.values["last"])
    for row in query.select(ctx.client, SIGHTING, 'last("sightings")', ["beacon"], window.end_ns - DAY_NS * STATUS_LOOKBACK_DAYS, window.end_ns):
        get(row)["last_seen"] = row.time_ns
    since = window.end_ns - STATUS_LOOKBACK_DAYS * DAY_NS
    for field in ("status_code", "battery_days_left"):
        for row in query.select(ctx.client, STATUS, f'last("{field}")', ["beacon"], since, window.end_ns):
            get(row)[field] = row.values["last"]

    cols = columns(catalogue)
    data: dict[str, list] = {c.name: [] for c in cols}
    day_minutes = window.hours * 60
    for beacon_id in sorted(state):
        s, beacon = state[beacon_id], registry.get(beacon_id)
        nominal = getattr(beacon, "nominal_mv", None)
        for name, value in (
            ("beacon_id", beacon_id),
            ("host_unit_id", getattr(beacon, "host_unit", None)),
            ("share_of_day_seen", min(1.0, s["minutes"] / day_minutes)),
            ("gateways", len(s["gateways"])),
            ("sightings", s["sightings"]),
            ("battery_mv_last", s["battery_last"]),
            ("battery_mv_min", s["battery_min"]),
            ("battery_level", min(1.0, s["battery_last"] / nominal) if s["battery_last"] and nominal else None),
            ("status_code", None if s["status_code"] is None else int(s["status_code"])),
            ("battery_days_left", s["battery_days_left"]),
            ("last_seen", s["last_seen"]),
        ):
            data[name].append(value)
    return Built(cols, data)


def _empty() -> dict:
    return {"minutes": 0, "gateways": set(), "sightings": 0, "battery_min": None, "battery_last": None,
            "status_code": None, "battery_days_left": None, "last_seen": None}
