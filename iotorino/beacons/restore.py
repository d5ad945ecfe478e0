"""What a restarted health monitor starts from: the retained statuses and the store's recent readings.

- Statuses: the retained `iotorino/beacons/<id>/status` documents the
  previous run published are the current statuses (`parse_status`);
  `RetainedStatuses` decides when all of them have arrived: the broker sends
  retained messages right after the subscription is acknowledged, so they
  are complete once none has come for `quiet_s` seconds (or, at the most,
  `timeout_s` seconds after the acknowledgement).
- Evidence: the status documents are written only on change, so their
  "last seen" may be days old. The beacon_sighting readings the MQTT
  collector stored in InfluxDB are taken instead (`StoredEvidence`): the
  readings of the last `lookback_s` seconds, folded per beacon and gateway
  on columns (`_sighting_summaries`, the same as `health.summarize`) and
  taken by `FleetHealth.observe_summaries` (last seen, learned interval,
  reboot counters, clone and move times); the hourly last battery voltage
  of the 60 days before for the trend, from the monitor's file where it
  covers them (battery.py) and from the store for the rest; and each
  gateway's newest `ble_gateway` heartbeat. The queries run in parallel.
  The store is the one place that kept listening while the monitor was
  down. Every stored row is checked like a live reading (tags present, the
  fields the rules use in the catalogue's range); a row that is not is
  skipped and counted, never the end of the restore. A stored row with
  none of those fields (never sent by a gateway: every window counts its
  sightings) is not read.
"""

from __future__ import annotations

import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Iterator, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from iotorino.beacons.battery import LATE_H, BatteryHistory
from iotorino.beacons.health import (BATTERY_HISTORY_H, HOUR_NS, PRECEDENCE, S, STATUS_CODES, BeaconStatus,
                                     SeriesSummary, Thresholds, merge_spans)
from iotorino.beacons.snapshot import BUCKET_S, LATE_S, Fold, FoldSnapshot, advance, bucket_of
from iotorino.core import catalogue
from iotorino.core.beacon_messages import HEARTBEAT, SIGHTING
from iotorino.core.errors import Rejected
from iotorino.core.reading import Reading
from iotorino.core.store.influx_v1 import InfluxV1Client, parse_tags
from iotorino.core.times import parse_time
# Hours of battery history per query (bounded answers, asked in parallel).
BATTERY_CHUNK_H = 24 * 7
# Where the newest sighting is looked for first (an InfluxQL duration).
NEWEST_FIRST_LOOK = "1d"
# The sighting fields the health rules use: the only ones a restore reads.
RULE_FIELDS = ("sightings", "addresses", "battery_mv", "adv_count", "uptime_s")
BUCKET_NS = BUCKET_S * S
# The replayed span is asked in this many time slices at once (InfluxDB answers each on its own core).
SIGHTING_PARTS = 4
# ... but never in slices shorter than this (seconds).
SLICE_MIN_S = 600


def parse_status(payload: bytes) -> BeaconStatus:
    """A retained status document (monitor.status_document) back into a `BeaconStatus`; `Rejected` if it is not one."""
    try:
        doc = json.loads(payload)
        status, flags = doc["status"], frozenset(doc["flags"])
        if status not in STATUS_CODES or not flags <= set(PRECEDENCE):
            raise ValueError
        stamp = lambda key: None if doc.get(key) is None else parse_time(doc[key], key)  # noqa: E731
        return BeaconStatus(str(doc["beacon"]), status, flags, stamp("since"), stamp("last_seen"),
                            doc.get("last_gateway"), doc.get("battery_mv"), doc.get("battery_days_left"),
                            doc.get("unseen_s"))
    except (ValueError, KeyError, TypeError, Rejected):
        raise Rejected("bad_status", "not a beacon status document", field="payload", value=payload[:80],
                       accepted='{"beacon", "status", "flags", "since", ...} as the monitor publishes') from None


class RetainedStatuses:
    """Collects the retained status messages after subscribing; `complete` says when all have come."""

    def __init__(self, quiet_s: float, timeout_s: float) -> None:
        self.quiet_s, self.timeout_s = quiet_s, timeout_s
        self.statuses: dict[str, BeaconStatus] = {}
        self.rejected = 0
        self._lock = threading.Lock()  # paho's thread adds, the restoring thread asks
        self._subscribed_at: float | None = None
        self._last_at = 0.0

    def subscribed(self, now_s: float) -> None:
        """The broker acknowledged the subscription at `now_s` (monotonic seconds); after a reconnect, again."""
        with self._lock:
            self._subscribed_at = self._last_at = now_s

    def add(self, payload: bytes, retained: bool, now_s: float) -> None:
        """One message on the status topics; only retained ones (sent on subscribing) count."""
        if not retained:
            return
        try:
            status = parse_status(payload)
        except Rejected:
            status = None
        with self._lock:
            self._last_at = now_s
            if status is None:
                self.rejected += 1
            else:
                self.statuses[status.beacon] = status

    def complete(self, now_s: float) -> bool:
        """True once no retained message came for `quiet_s`, or `timeout_s` after subscribing."""
        with self._lock:
            if self._subscribed_at is None:
                return False
            return now_s - self._last_at >= self.quiet_s or now_s - self._subscribed_at >= self.timeout_s


@dataclass(frozen=True)
class StoredEvidence:
    """The store's recent readings for `FleetHealth`: battery history, the replayed span folded per beacon and
    gateway, each gateway's newest heartbeat."""

    battery: dict[str, list[tuple[int, int]]]  # beacon -> (hour start ns, mV), one per hour, oldest first
    sightings: list[SeriesSummary]
    heartbeats: list[Reading]
    readings: int = 0  # sighting rows folded into `sightings`
    skipped: int = 0  # stored rows that are not valid readings
    battery_from_file: int = 0  # hours of battery history read from the monitor's file, not the store
    fold: Fold | None = None  # the span's closed buckets, for the snapshot (snapshot.py)
    fold_source: str = ""  # "snapshot", or "full read: " and why no snapshot was taken
    rows_read: int = 0  # sighting rows read from the store (the rest of `readings` came from the snapshot)


def lookback_s(beacons: Mapping, thresholds: Thresholds) -> float:
    """Seconds of readings to replay: enough for every held event and every beacon's missing threshold."""
    slowest_s = max((b.advertising_interval_ms / 1000 for b in beacons.values()), default=1.0)
    missing_s = max(thresholds.missing_min_s, thresholds.missing_intervals * slowest_s)
    return max(thresholds.event_hold_s, missing_s) + 2 * thresholds.window_s


def stored_evidence(client: InfluxV1Client, beacons: Mapping, thresholds: Thresholds,
                    history: BatteryHistory | None = None, snapshot: FoldSnapshot | None = None) -> StoredEvidence:
    """Read the evidence of the `lookback_s` before the newest stored sighting; empty if there is none.

    The battery history comes from `history` (the monitor's file) for the hours it covers and from the store
    for the rest, which is then recorded there. The folded sightings come from `snapshot` for the buckets it
    covers within the span and from the store for the rest (all from the store without a usable one, and
    `fold_source` says why). The queries run in parallel."""
    newest = _newest_sighting(client)
    if newest is None:
        return StoredEvidence({}, [], [])
    end = newest + 1
    start = end - round(lookback_s(beacons, thresholds) * S)
    history_start = start - BATTERY_HISTORY_H * HOUR_NS
    first_whole, last_whole = -(-history_start // HOUR_NS) * HOUR_NS, start // HOUR_NS * HOUR_NS
    covered = (history.covered_until_ns() or 0) if history is not None else 0
    cached_until = max(first_whole, min(covered, last_whole))
    spans = [(history_start, first_whole), (cached_until, start)] if cached_until > first_whole else [(history_start, start)]
    kept, fold_spans, source = _usable_fold(snapshot, start, end)
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="beacon-restore-query") as pool:
        sightings = [pool.submit(_sighting_summaries, client, a, b) for a, b in fold_spans]
        heartbeats = pool.submit(_latest_heartbeats, client)
        cached = pool.submit(history.read, first_whole, cached_until) if cached_until > first_whole else None
        queried = [pool.submit(battery_hours, client, chunk, min(chunk + BATTERY_CHUNK_H * HOUR_NS, span_end))
                   for span_start, span_end in spans
                   for chunk in range(span_start, span_end, BATTERY_CHUNK_H * HOUR_NS)]  # oldest first
        battery = cached.result() if cached is not None else {}
        from_file = sum(map(len, battery.values()))
        from_store, skipped = [], 0
        for chunk in queried:
            samples, bad = chunk.result()
            from_store += samples
            skipped += bad
        buckets, rows, bad_rows = list(kept), 0, 0
        for part in sightings:
            summaries, n, bad = part.result()
            buckets += summaries
            rows, bad_rows = rows + n, bad_rows + bad
        latest, bad_heartbeats = heartbeats.result()
    for beacon, t, mv in sorted(from_store, key=lambda s: s[1]):
        battery.setdefault(beacon, []).append((t, mv))
    for samples in battery.values():
        samples.sort(key=lambda sample: sample[0])  # stable: of two answers for one hour, the later chunk's last
    if history is not None:
        # The closed hours asked of the store; the coverage never goes back (the refresher may be ahead).
        history.record([s for s in from_store if first_whole <= s[1] < last_whole], max(covered, last_whole))
    head = -(-start // BUCKET_NS) * BUCKET_NS
    closed = max(head, bucket_of(end - LATE_S * S) * BUCKET_NS)  # buckets whose late windows are in by now
    fold = Fold(head, closed, tuple(b for b in buckets if head <= bucket_of(b.last_ns) * BUCKET_NS < closed))
    return StoredEvidence(battery, merge_spans(buckets), latest, rows + sum(b.readings for b in kept),
                          skipped + bad_rows + bad_heartbeats, from_file, fold, source, rows)


def _usable_fold(snapshot: FoldSnapshot | None, start: int, end: int) -> tuple[tuple[SeriesSummary, ...],
                                                                                  list[tuple[int, int]], str]:
    """The snapshot's buckets lying within [start, end), the spans to ask the store for, and where the fold
    comes from ("snapshot", or why the store is asked for all of it)."""
    fold, why = snapshot.read() if snapshot is not None else (None, "no snapshot file")
    if fold is not None:
        usable_from = max(-(-start // BUCKET_NS) * BUCKET_NS, fold.from_ns)
        if fold.until_ns > end:
            why = "a snapshot ahead of the store's newest sighting"
        elif fold.until_ns - usable_from < BUCKET_NS:
            why = "a stale snapshot (older than the replayed span)"
        else:
            spans = [(a, b) for a, b in ((start, usable_from), (fold.until_ns, end)) if b > a]
            return tuple(fold.within(usable_from, fold.until_ns)), spans, "snapshot"
    return (), [(start, end)], f"full read: {why}"


def battery_hours(client: InfluxV1Client, start_ns: int, end_ns: int) -> tuple[list[tuple[str, int, int]], int]:
    """(beacon, hour start ns, mV) of the last stored battery voltage of every beacon and hour in [start, end),
    and how many were not valid values."""
    battery, skipped = [], 0
    battery_field = catalogue.default().measurement(SIGHTING).fields["battery_mv"]
    for tags, t, values in _rows(
            client, f'SELECT last("battery_mv") AS "mv" FROM "{SIGHTING}" WHERE {_between(start_ns, end_ns)}'
                    ' GROUP BY time(1h), "beacon" fill(none)'):
        try:
            catalogue.check_value(battery_field, values.get("mv"))
            battery.append((_tag(tags, "beacon"), t, int(values["mv"])))
        except Rejected:
            skipped += 1
    return battery, skipped


def refresh_battery_history(client: InfluxV1Client, history: BatteryHistory, now_ns: int) -> int:
    """Record the hours closed since the file's coverage, and the `LATE_H` before them again; returns the hours
    asked (0 when the file covers nothing yet: the restore fills it, or when no hour has closed)."""
    covered, until = history.covered_until_ns(), now_ns // HOUR_NS * HOUR_NS
    if covered is None or covered >= until:
        return 0
    since = max(covered - LATE_H * HOUR_NS, until - BATTERY_HISTORY_H * HOUR_NS)
    samples = []
    for chunk_start in range(since, until, BATTERY_CHUNK_H * HOUR_NS):
        samples += battery_hours(client, chunk_start, min(until, chunk_start + BATTERY_CHUNK_H * HOUR_NS))[0]
    history.record(samples, until)
    return (until - since) // HOUR_NS


def refresh_fold(client: InfluxV1Client, snapshot: FoldSnapshot, fold: Fold, now_ns: int, span_s: float) -> Fold:
    """`fold` with the buckets closed `LATE_S` before `now_ns` asked of the store and added, those that have left
    every span a restore would replay (`span_s`) dropped, and written to `snapshot` if it changed."""
    closed = bucket_of(now_ns - LATE_S * S) * BUCKET_NS
    keep_from = bucket_of(now_ns - round(span_s * S)) * BUCKET_NS
    if closed <= fold.until_ns:
        return fold
    if fold.until_ns < keep_from:  # stopped asking for a span longer than the replayed one: start afresh
        fold = Fold(keep_from, keep_from, ())
    new, _, _ = _sighting_summaries(client, fold.until_ns, closed)
    fold = advance(fold, new, closed, keep_from)
    snapshot.write(fold)
    return fold


def _newest_sighting(client: InfluxV1Client) -> int | None:
    """Time of the newest stored sighting: looked for in the last day first (an unbounded `last()` reads every
    point the store holds), then in all time."""
    for bound in (f" WHERE time > now() - {NEWEST_FIRST_LOOK}", ""):
        newest = [t for _, t, _ in _rows(client, f'SELECT last("sightings") FROM "{SIGHTING}"{bound}')]
        if newest:
            return newest[0]
    return None


def _sighting_summaries(client: InfluxV1Client, start_ns: int, end_ns: int) -> tuple[list[SeriesSummary], int, int]:
    """Every sighting in [start, end) folded per beacon, gateway and snapshot bucket (`health.summarize` of each
    bucket, computed on columns), with how many rows were folded and how many skipped as invalid.

    Only the fields the rules use are read, as CSV parsed by pyarrow (a full fleet's hour is 600,000 rows);
    a row is skipped when a tag is missing or one of those fields is outside the catalogue's range, as the
    replay of single readings did. Within a series InfluxDB keeps one point per time, in time order."""
    names = list(RULE_FIELDS)
    spec = catalogue.default().measurement(SIGHTING)
    kinds = {"integer": pa.int64(), "float": pa.float64()}
    options = pacsv.ConvertOptions(
        column_types={"tags": pa.string(), "time": pa.int64(), **{n: kinds[spec.fields[n].type] for n in names}},
        strings_can_be_null=False, include_columns=["tags", "time", *names], include_missing_columns=True)
    select = ", ".join(f'"{n}"' for n in names)

    def part(bounds: tuple[int, int]) -> pa.Table | None:
        body = client.query_csv(f'SELECT {select} FROM "{SIGHTING}" WHERE {_between(*bounds)} GROUP BY "beacon", "gateway"')
        return pacsv.read_csv(io.BytesIO(body), convert_options=options) if body.strip() else None

    # Each query opens every series whatever its span: a short span (a snapshot's tail) is asked whole.
    parts = max(1, min(SIGHTING_PARTS, (end_ns - start_ns) // (SLICE_MIN_S * S)))
    step = -(-(end_ns - start_ns) // parts)
    with ThreadPoolExecutor(max_workers=parts, thread_name_prefix="beacon-restore-sightings") as pool:
        parts = [t for t in pool.map(part, [(a, min(a + step, end_ns)) for a in range(start_ns, end_ns, step)]) if t]
    if not parts:
        return [], 0, 0
    table = pa.concat_tables(parts)
    encoded = table["tags"].combine_chunks().dictionary_encode()
    keys = [(tags.get("beacon", ""), tags.get("gateway", "")) for tags in map(parse_tags, encoded.dictionary.to_pylist())]
    series = _numbers(encoded.indices, np.int32).astype(np.int64)
    valid = np.array([bool(b) and bool(g) for b, g in keys], dtype=bool)[series]
    present, values = {}, {}
    for name in names:
        column = table[name].combine_chunks()
        present[name] = _present(column)
        raw = _numbers(column, np.float64 if spec.fields[name].type == "float" else np.int64)
        values[name] = np.where(present[name], raw, 0)  # a null's slot holds anything
        field = spec.fields[name]
        with np.errstate(invalid="ignore"):
            valid &= ~present[name] | ((values[name] >= field.low) & (values[name] <= field.high))
    skipped = int(len(valid) - valid.sum())
    times = _numbers(table["time"].combine_chunks(), np.int64)  # every CSV row has its time
    # One summary per beacon, gateway and snapshot bucket: series code = tags code * buckets + bucket.
    buckets = times // (BUCKET_S * S)
    first_bucket = int(buckets.min()) if len(buckets) else 0
    per_tags = int(buckets.max()) - first_bucket + 1 if len(buckets) else 1
    series = series * per_tags + (buckets - first_bucket)
    keep = np.flatnonzero(valid)
    keep = keep[np.lexsort((times[keep], series[keep]))]
    if len(keep) == 0:
        return [], 0, skipped
    series, times = series[keep], times[keep]
    present = {n: p[keep] for n, p in present.items()}
    values = {n: v[keep] for n, v in values.items()}
    starts = np.flatnonzero(np.r_[True, series[1:] != series[:-1]])
    ends = np.r_[starts[1:], len(series)]
    best = np.maximum.reduceat(np.where(present["sightings"], values["sightings"], 0), starts)
    clone = np.maximum.reduceat(np.where(present["addresses"] & (values["addresses"] > 1), times, -1), starts)
    battery: dict[int, list[tuple[int, int]]] = {}
    rows = np.flatnonzero(present["battery_mv"])
    hours = times[rows] // HOUR_NS
    last_of_hour = rows[np.r_[(series[rows][1:] != series[rows][:-1]) | (hours[1:] != hours[:-1]), True]] \
        if len(rows) else rows
    for code, t, mv in zip(series[last_of_hour].tolist(), times[last_of_hour].tolist(),
                           values["battery_mv"][last_of_hour].tolist()):
        battery.setdefault(code, []).append((t, mv))
    counters: dict[int, list] = {}  # series -> [first, last, reboot_ns]
    rows = np.flatnonzero(present["adv_count"] & present["uptime_s"])
    if len(rows):
        own, adv, up, at = series[rows], values["adv_count"][rows], values["uptime_s"][rows], times[rows]
        same = own[1:] == own[:-1]
        down = same & ((adv[1:] < adv[:-1]) | (up[1:] < up[:-1]))
        firsts, lasts = np.r_[True, ~same], np.r_[~same, True]
        for code, t, a, u in zip(own[firsts].tolist(), at[firsts].tolist(), adv[firsts].tolist(), up[firsts].tolist()):
            counters[code] = [(t, a, float(u)), None, None]
        for code, t, a, u in zip(own[lasts].tolist(), at[lasts].tolist(), adv[lasts].tolist(), up[lasts].tolist()):
            counters[code][1] = (t, a, float(u))
        for code, t in zip(own[1:][down].tolist(), at[1:][down].tolist()):
            counters[code][2] = t  # in time order: the newest stays
    summaries = []
    for code, first, last, most, cloned in zip(series[starts].tolist(), starts.tolist(), ends.tolist(), best.tolist(),
                                              clone.tolist()):
        beacon, gateway = keys[code // per_tags]
        first_counters, last_counters, reboot = counters.get(code, (None, None, None))
        summaries.append(SeriesSummary(beacon, gateway, int(times[last - 1]), most, tuple(battery.get(code, ())),
                                       first_counters, last_counters, reboot, None if cloned < 0 else cloned,
                                       last - first))
    return summaries, len(keep), skipped


def _numbers(array: pa.Array, dtype) -> np.ndarray:
    """The values of a primitive Arrow array, read from its buffer, whatever stands in a null's slot
    (pyarrow's own `to_numpy` and `fill_null` import pandas: seconds at a start-up)."""
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * np.dtype(dtype).itemsize)


def _present(array: pa.Array) -> np.ndarray:
    """True where the Arrow array has a value (its validity bitmap, unpacked)."""
    bitmap = array.buffers()[0]
    if bitmap is None:
        return np.ones(len(array), dtype=bool)
    bits = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")
    return bits[array.offset:array.offset + len(array)].astype(bool)


def _latest_heartbeats(client: InfluxV1Client) -> tuple[list[Reading], int]:
    """The newest `ble_gateway` reading of every gateway, however old, and how many rows were skipped."""
    fields = ", ".join(f'"{name}"' for name in catalogue.default().measurement(HEARTBEAT).fields)
    return _valid_readings(HEARTBEAT, ("gateway",), _rows(
        client, f'SELECT {fields} FROM "{HEARTBEAT}" GROUP BY "gateway" ORDER BY time DESC LIMIT 1'))


def _valid_readings(measurement: str, tag_keys: tuple[str, ...], rows) -> tuple[list[Reading], int]:
    """The rows that are valid readings of `measurement` (tags present, fields in the catalogue), and how
    many were not."""
    readings, skipped = [], 0
    for tags, t, values in rows:
        try:
            reading = Reading(measurement, {key: _tag(tags, key) for key in tag_keys},
                              {k: v for k, v in values.items() if v is not None}, t)
            readings.append(catalogue.default().validate(reading))
        except Rejected:
            skipped += 1
    return readings, skipped


def _tag(tags: dict, key: str) -> str:
    value = tags.get(key)
    if not isinstance(value, str) or not value:
        raise Rejected("missing_tag", "a stored row without this tag", field=key, value=value, accepted="an id")
    return value


def _between(start_ns: int, end_ns: int) -> str:
    return f"time >= {start_ns} AND time < {end_ns}"


def _rows(client: InfluxV1Client, influxql: str) -> Iterator[tuple[dict, int, dict]]:
    """(series tags, time_ns, values by column) of every row of the answer."""
    for series in client.query(influxql, epoch="ns"):
        names = series["columns"][1:]
        for row in series["values"]:
            yield series.get("tags") or {}, int(row[0]), dict(zip(names, row[1:]))
