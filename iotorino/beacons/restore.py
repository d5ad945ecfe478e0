"""What a restarted health monitor starts from: the retained statuses and the store's recent readings.

- Statuses: the retained `iotorino/beacons/<id>/status` documents the
  previous run published are the current statuses (`parse_status`);
  `RetainedStatuses` decides when all of them have arrived: the broker sends
  retained messages right after the subscription is acknowledged, so they
  are complete once none has come for `quiet_s` seconds (or, at the most,
  `timeout_s` seconds after the acknowledgement).
- Evidence: the status documents are written only on change, so their
  "last seen" may be days old. The beacon_sighting readings the MQTT
  collector stored in InfluxDB are replayed instead (`StoredEvidence`):
  every reading of the last `lookback_s` seconds through the same rules
  (last seen, learned interval, reboot counters, clone and move times), and
  the hourly last battery voltage of the 60 days before for the trend, and
  each gateway's newest `ble_gateway` heartbeat. The store is the one place
  that kept listening while the monitor was down. Every stored row is
  checked like a live reading (tags present, fields in the catalogue); a row
  that is not a valid reading is skipped and counted, never the end of the
  restore.
"""

from __future__ import annotations

import io
import json
import threading
from dataclasses import dataclass
from typing import Iterator, Mapping

import pyarrow as pa
import pyarrow.csv as pacsv

from iotorino.beacons.health import BATTERY_HISTORY_H, PRECEDENCE, S, STATUS_CODES, BeaconStatus, Thresholds
from iotorino.core import catalogue
from iotorino.core.beacon_messages import HEARTBEAT, SIGHTING
from iotorino.core.errors import Rejected
from iotorino.core.reading import Reading
from iotorino.core.store.influx_v1 import InfluxV1Client, parse_tags
from iotorino.core.times import parse_time
HOUR_NS = 3600 * S
# Hours of battery history per query (bounded answers).
BATTERY_CHUNK_H = 24 * 7
# Where the newest sighting is looked for first (an InfluxQL duration).
NEWEST_FIRST_LOOK = "1d"


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
    """The store's recent readings for `FleetHealth`: battery history, then readings to replay in time order."""

    battery: list[tuple[str, int, int]]  # (beacon, time_ns, mV), one per hour
    readings: list[Reading]
    skipped: int = 0  # stored rows that are not valid readings


def lookback_s(beacons: Mapping, thresholds: Thresholds) -> float:
    """Seconds of readings to replay: enough for every held event and every beacon's missing threshold."""
    slowest_s = max((b.advertising_interval_ms / 1000 for b in beacons.values()), default=1.0)
    missing_s = max(thresholds.missing_min_s, thresholds.missing_intervals * slowest_s)
    return max(thresholds.event_hold_s, missing_s) + 2 * thresholds.window_s


def stored_evidence(client: InfluxV1Client, beacons: Mapping, thresholds: Thresholds) -> StoredEvidence:
    """Read the evidence of the `lookback_s` before the newest stored sighting; empty if there is none."""
    newest = _newest_sighting(client)
    if newest is None:
        return StoredEvidence([], [])
    end = newest + 1
    start = end - round(lookback_s(beacons, thresholds) * S)
    battery, skipped = [], 0
    battery_field = catalogue.default().measurement(SIGHTING).fields["battery_mv"]
    chunk_start = start - BATTERY_HISTORY_H * HOUR_NS
    while chunk_start < start:
        chunk_end = min(start, chunk_start + BATTERY_CHUNK_H * HOUR_NS)
        for tags, t, values in _rows(
                client, f'SELECT last("battery_mv") AS "mv" FROM "{SIGHTING}" WHERE {_between(chunk_start, chunk_end)}'
                        ' GROUP BY time(1h), "beacon" fill(none)'):
            try:
                catalogue.check_value(battery_field, values.get("mv"))
                battery.append((_tag(tags, "beacon"), t, int(values["mv"])))
            except Rejected:
                skipped += 1
        chunk_start = chunk_end
    readings, bad = _valid(_sightings(client, start, end))
    heartbeats, bad_heartbeats = _latest_heartbeats(client)
    return StoredEvidence(battery, sorted(readings + heartbeats, key=lambda r: r.time_ns),
                          skipped + bad + bad_heartbeats)


def _valid(readings: list[Reading]) -> tuple[list[Reading], int]:
    """The readings with their tags and valid fields (the catalogue's check), and how many were not."""
    kept, skipped = [], 0
    spec = catalogue.default()
    for reading in readings:
        try:
            for key, value in reading.tags.items():
                _tag(reading.tags, key)
            kept.append(spec.validate(reading))
        except Rejected:
            skipped += 1
    return kept, skipped


def _newest_sighting(client: InfluxV1Client) -> int | None:
    """Time of the newest stored sighting: looked for in the last day first (an unbounded `last()` reads every
    point the store holds), then in all time."""
    for bound in (f" WHERE time > now() - {NEWEST_FIRST_LOOK}", ""):
        newest = [t for _, t, _ in _rows(client, f'SELECT last("sightings") FROM "{SIGHTING}"{bound}')]
        if newest:
            return newest[0]
    return None


def _sightings(client: InfluxV1Client, start_ns: int, end_ns: int) -> list[Reading]:
    """Every sighting reading in [start, end), read as CSV (a full fleet's hour is 600,000 rows: JSON would
    take several times as long to parse); fields keep the catalogue's types, absent ones are left out."""
    spec = catalogue.default().measurement(SIGHTING)
    names = list(spec.fields)
    fields = ", ".join(f'"{name}"' for name in names)
    body = client.query_csv(f'SELECT {fields} FROM "{SIGHTING}" WHERE {_between(start_ns, end_ns)}'
                            ' GROUP BY "beacon", "gateway"')
    if not body.strip():
        return []
    kinds = {"integer": pa.int64(), "float": pa.float64(), "boolean": pa.bool_()}
    types = {"tags": pa.string(), "time": pa.int64(), **{n: kinds.get(spec.fields[n].type, pa.string()) for n in names}}
    table = pacsv.read_csv(io.BytesIO(body), convert_options=pacsv.ConvertOptions(
        column_types=types, strings_can_be_null=False, include_columns=["tags", "time", *names],
        include_missing_columns=True))
    series = {text: parse_tags(text) for text in set(table["tags"].to_pylist())}
    tag_sets = {text: {"beacon": tags.get("beacon", ""), "gateway": tags.get("gateway", "")}
                for text, tags in series.items()}
    columns = [table[n].to_pylist() for n in names]
    return [Reading(SIGHTING, tag_sets[text], {n: v for n, v in zip(names, values) if v is not None}, t)
            for text, t, *values in zip(table["tags"].to_pylist(), table["time"].to_pylist(), *columns)]


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
