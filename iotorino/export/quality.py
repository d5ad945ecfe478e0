"""The daily data-quality report (`data_quality_daily`): one row per device and measurement.

For each device the inventory expects (and any the store holds that it does not):
- completeness: values received ÷ values its profile should send in the local day;
- stuck fields: gauge fields whose value did not change all day (with at least
  `STUCK_MIN_VALUES` values); a constant at the bottom of the field's catalogue
  range (no rain, silence) is normal and not flagged;
- out-of-range values: values outside the measuring range of the device's sensor
  (profile), or of the catalogue where the profile gives none;
- quarantined values: values the collector set aside in its dead letters
  (field-level quarantine: invalid type or outside the catalogue's range)
  while it stored the rest of their message; each stored point says how many
  in its `quarantined_values` field (iotorino.core.catalogue);
- silence: the last value within `LOOKBACK_DAYS` before the day's end, and
  whether the device has been silent for more than a day.
The store is read in bounded chunks; per-device state is a few numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import pyarrow as pa

from iotorino.core import catalogue as catalogue_mod
from iotorino.core import sites
from iotorino.export import query
from iotorino.export.columns import UTC_MS, Column
from iotorino.export.model import Built, ExportContext

DATASET = "data_quality_daily"
STUCK_MIN_VALUES = 6
DAY_STATS = ("count", "min", "max")
LOOKBACK_DAYS = 7
DAY_NS = 86_400 * 1_000_000_000
SITES = sites.topic_sites(profiled=True)  # street and school: the sites whose devices have profiles
QUARANTINED = catalogue_mod.QUARANTINED_FIELD

COLUMNS = [
    Column("measurement", pa.string(), "Catalogue measurement the row is about (see schemas/catalogue.yaml)."),
    Column("device_id", pa.string(), "Device label: street unit id, or school id with /room, /meter or /outdoor "
           "(the same name as in the collector's metrics)."),
    Column("expected_values", pa.int32(), "Values per field the device's profile should send in the local day.", "count"),
    Column("received_values", pa.int32(), "Values received in the local day, for the device's most complete field.", "count"),
    Column("completeness", pa.float64(), "received_values ÷ expected_values, capped at 1; empty when not expected.", "1"),
    Column("stuck_fields", pa.string(), "Gauge fields whose value never changed during the day, comma-separated."),
    Column("out_of_range_values", pa.int32(), "Values outside the measuring range of the device's sensor.", "count"),
    Column("quarantined_values", pa.int32(), "Values the collector set aside (wrong type or outside the catalogue's "
           "plausible range) while storing the rest of their message; kept in its dead letters.", "count"),
    Column("last_seen", UTC_MS, f"Time of the last value within {LOOKBACK_DAYS} days before the day's end, UTC.", "UTC"),
    Column("silent_over_a_day", pa.bool_(), "True when the device sent nothing in the 24 h before the day's end."),
]


@dataclass
class DeviceDay:
    """Running state of one device and measurement over the day."""

    measurement: str
    device_id: str
    interval_s: int | None = None
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    lows: dict[str, float] = field(default_factory=dict)
    highs: dict[str, float] = field(default_factory=dict)
    out_of_range: int = 0
    quarantined: int = 0
    last_seen_ns: int | None = None


def device_id(tags: dict[str, str]) -> str:
    """The report's device id for a series' tags: the device's one label (`iotorino.core.sites`)."""
    return sites.label_of(tags)


def expected_devices(inventory: Any | None, day) -> Iterator[tuple[str, str, Any]]:
    """(measurement, device label, profile) for every device installed by `day` and what it reports."""
    if inventory is None:
        return
    for device in inventory.devices(installed_by=day):
        profile = inventory.profiles[device.profile]
        for m in profile.measurements:
            yield m, device.label, profile


def shared_reads(ctx: ExportContext) -> Iterator[tuple[str, list[str], list[str]]]:
    """(measurement, fields, group tags) of the day's raw points `build` reads through the context's shared reads."""
    for spec in catalogue_mod.default().measurements.values():
        if spec.site in SITES and all(spec.fields[f].type == "float" for f in spec.fields):
            yield spec.name, list(spec.fields), list(spec.tags)


def build(ctx: ExportContext) -> Built:
    """One local day of the quality report; `Built.metadata['iotorino:summary']` is the one-line summary."""
    catalogue = catalogue_mod.default()
    window = ctx.window
    devices: dict[tuple[str, str], DeviceDay] = {}
    for m, dev, profile in expected_devices(ctx.inventory, window.day):
        devices[(m, dev)] = DeviceDay(
            m, dev, profile.interval_s(m), {f: (q.low, q.high) for f, q in profile.quantities(m).items()}
        )
    for spec in catalogue.measurements.values():
        if spec.site not in SITES:
            continue
        fields = list(spec.fields)
        tags = [t for t in spec.tags if t != "district"]

        def state(row) -> DeviceDay:
            key = (spec.name, device_id(row.tags))
            if key not in devices:
                devices[key] = DeviceDay(spec.name, key[1])
            return devices[key]

        if all(spec.fields[f].type == "float" for f in fields):
            # The day's count, min and max follow exactly from the hourly ones the hourly datasets read anyway.
            keyed = [(f, f"{f}_count", f"{f}_min", f"{f}_max") for f in fields]
            for row in ctx.hourly_stats(spec.name, fields, list(spec.tags)):
                _add_hour(state(row), keyed, row.values)
        else:
            for lo, hi in query.chunks(window.start_ns, window.end_ns, ctx.chunk_hours):
                for row in query.select(ctx.client, spec.name, query.stats_select(fields, DAY_STATS), tags, lo, hi):
                    _add_stats(state(row), fields, row.values)
        # Values set aside by the collector's field-level quarantine, counted on the stored messages.
        quarantined = f'sum("{QUARANTINED}") AS "{QUARANTINED}"'
        for lo, hi in query.chunks(window.start_ns, window.end_ns, ctx.chunk_hours):
            for row in query.select(ctx.client, spec.name, quarantined, tags, lo, hi):
                state(row).quarantined += int(row.values.get(QUARANTINED) or 0)
        for low_high, fields_ in _range_groups(devices, spec).items():
            if not _may_be_outside(devices, spec, low_high, fields_):
                continue
            for row in query.count_outside(ctx.client, spec.name, low_high, fields_, tags, window.start_ns, window.end_ns, ctx.chunk_hours):
                d = state(row)
                d.out_of_range += sum(int(v or 0) for f, v in row.values.items() if _range_of(d, spec, f.split("__")[0]) == low_high)
        # Last values: the day before the end first; the older lookback only for devices not found there.
        for lo, hi in ((window.end_ns - DAY_NS, window.end_ns), (window.end_ns - LOOKBACK_DAYS * DAY_NS, window.end_ns - DAY_NS)):
            for row in query.last_times(ctx.client, spec.name, fields, tags, lo, hi):
                d = state(row)
                d.last_seen_ns = max(d.last_seen_ns or 0, row.time_ns)
            if all(d.last_seen_ns for d in devices.values() if d.measurement == spec.name):
                break
    return _table(devices, catalogue, window)


def _add_hour(d: DeviceDay, keyed: list[tuple[str, str, str, str]], values: dict) -> None:
    """`_add_stats` for one hour of float statistics (keys resolved once by the caller)."""
    counts, lows, highs = d.counts, d.lows, d.highs
    for f, count_key, min_key, max_key in keyed:
        count = values[count_key]
        if not count:
            continue
        counts[f] = counts.get(f, 0) + count
        low, high = values[min_key], values[max_key]
        if f in lows:
            if low < lows[f]:
                lows[f] = low
            if high > highs[f]:
                highs[f] = high
        else:
            lows[f], highs[f] = low, high


def _add_stats(d: DeviceDay, fields: list[str], values: dict) -> None:
    for f in fields:
        count = int(values.get(f"{f}_count") or 0)
        if not count:
            continue
        d.counts[f] = d.counts.get(f, 0) + count
        low, high = values.get(f"{f}_min"), values.get(f"{f}_max")
        if isinstance(low, (int, float)) and not isinstance(low, bool):
            d.lows[f] = min(d.lows.get(f, low), low)
            d.highs[f] = max(d.highs.get(f, high), high)


def _range_of(d: DeviceDay, spec, f: str) -> tuple[float, float]:
    if f in d.ranges:
        return d.ranges[f]
    return (spec.fields[f].low, spec.fields[f].high)


def _may_be_outside(devices: dict, spec, low_high: tuple[float, float], fields: dict) -> bool:
    """Whether any device whose range of a field is `low_high` had that field's day minimum or maximum outside it.

    When none had, every value lies inside and counting them in the store would find 0.
    """
    low, high = low_high
    for d in devices.values():
        if d.measurement != spec.name:
            continue
        for f in fields:
            if f in d.lows and _range_of(d, spec, f) == low_high and (d.lows[f] < low or d.highs[f] > high):
                return True
    return False


def _range_groups(devices: dict, spec) -> dict[tuple[float, float], dict[str, tuple[float, float]]]:
    """Distinct measuring ranges per field of `spec` across devices: {(field, low, high) key → fields}."""
    groups: dict[tuple[float, float], dict[str, tuple[float, float]]] = {}
    for d in devices.values():
        if d.measurement != spec.name:
            continue
        for f in spec.fields:
            if spec.fields[f].type != "boolean":
                rng = _range_of(d, spec, f)
                groups.setdefault(rng, {})[f] = rng
    return groups


def _table(devices: dict, catalogue, window) -> Built:
    data: dict[str, list] = {c.name: [] for c in COLUMNS}
    day_s = window.hours * 3600
    stuck_total = silent_total = oor_total = quarantined_total = 0
    shares = []
    for (m, dev), d in sorted(devices.items()):
        spec = catalogue.measurement(m)
        expected = day_s // d.interval_s if d.interval_s else None
        received = max(d.counts.values(), default=0)
        share = min(1.0, received / expected) if expected else None
        stuck = [
            f for f, n in d.counts.items()
            if n >= STUCK_MIN_VALUES and spec.fields[f].kind == "gauge"
            and d.lows.get(f) == d.highs.get(f) and d.lows.get(f) != spec.fields[f].low
        ]
        silent = d.last_seen_ns is None or window.end_ns - d.last_seen_ns > DAY_NS
        for name, value in zip(
            [c.name for c in COLUMNS],
            [m, dev, expected, received, share, ",".join(sorted(stuck)) or None, d.out_of_range, d.quarantined,
             d.last_seen_ns, silent],
        ):
            data[name].append(value)
        stuck_total += bool(stuck)
        silent_total += silent
        oor_total += d.out_of_range
        quarantined_total += d.quarantined
        if share is not None:
            shares.append(share)
    mean = sum(shares) / len(shares) if shares else 0.0
    summary = (
        f"{len(devices)} device-measurements; mean completeness {mean:.1%}; "
        f"{stuck_total} with stuck fields; {silent_total} silent over a day; {oor_total} out-of-range values; "
        f"{quarantined_total} quarantined values"
    )
    return Built(COLUMNS, data, {"iotorino:summary": summary})
