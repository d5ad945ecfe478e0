"""Fleet health rules: ok, low_battery, rebooted, moved, suspected_clone, missing. Pure; time is passed in.

Thresholds (see `Thresholds`, all configurable):
- missing: unseen by every gateway for more than max(`missing_min_s`,
  `missing_intervals` x the learned advertising interval). The interval is
  learned as window / most sightings any gateway got in one window (the
  registry's value until a reading arrives); adapters drop reports, so the
  best-hearing gateway is the best estimate.
- low_battery: last TLM voltage at or below `low_battery_fraction` x the
  registry's nominal voltage, or the linear mV trend (at least
  `min_trend_span_s` of history) reaching `end_of_life_fraction` x nominal
  within `forecast_days`.
- rebooted: at one gateway, the TLM advertising count or uptime went down;
  the flag holds for `event_hold_s`.
- suspected_clone: its id came from more than one address in a window, or it
  was heard near its registered place and farther than `max_range_m` from it
  within two windows; moved: heard only far away since then. Both hold for
  `event_hold_s`. Gateways without a known position take no part in this rule.
The dominant status is the first of missing, suspected_clone, moved,
rebooted, low_battery that applies, else ok.

After a restart `restore` takes the statuses the previous run published back
as the current ones, and readings replayed from the store rebuild the
evidence (see iotorino/beacons/restore.py), so unchanged statuses stay as
they were. A restore replays an hour of a whole fleet (600,000 readings for
500 beacons x 10 gateways), so it folds each beacon's readings at one gateway
into a `SeriesSummary` first (`summarize`, or the restore's vectorised twin)
and `observe_summaries` takes those: the same state as observing every
reading in order of time (then gateway), at a fraction of the cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping

from iotorino.core.reading import Reading

S = 1_000_000_000
HOUR_NS = 3600 * S
# Hourly battery samples kept per beacon for the trend: 60 days.
BATTERY_HISTORY_H = 24 * 60
STATUS_CODES = {"ok": 0, "low_battery": 1, "rebooted": 2, "moved": 3, "suspected_clone": 4, "missing": 5}
PRECEDENCE = ("missing", "suspected_clone", "moved", "rebooted", "low_battery")


@dataclass(frozen=True)
class Thresholds:
    """The documented limits of each status rule."""

    window_s: int = 30
    """Seconds per gateway reading window."""
    missing_intervals: int = 100
    """N: missing after N x the learned advertising interval ..."""
    missing_min_s: float = 180.0
    """... but never sooner than this many seconds (Home Assistant's 180 s)."""
    low_battery_fraction: float = 0.85
    """Low battery at or below this share of the nominal voltage (2550 mV for a 3 V cell)."""
    end_of_life_fraction: float = 0.80
    """End of life at this share of the nominal voltage (2400 mV for a 3 V cell)."""
    forecast_days: float = 30.0
    """Low battery when the trend reaches end of life within this many days."""
    min_trend_span_s: float = 6 * 3600.0
    """Seconds of battery history needed before forecasting."""
    event_hold_s: float = 3600.0
    """Seconds a reboot, clone or move keeps flagging the beacon."""
    max_range_m: float = 150.0
    """A gateway farther than this from the beacon's registered place cannot hear it there."""
    gateway_silent_s: float = 180.0
    """A gateway is silent after this many seconds without a heartbeat (3 x its stats_interval_s)."""


@dataclass(frozen=True)
class BeaconStatus:
    """A beacon's health at one moment; no addresses, only ids and numbers."""

    beacon: str
    status: str
    flags: frozenset[str]
    since_ns: int
    last_seen_ns: int | None = None
    last_gateway: str | None = None
    battery_mv: int | None = None
    battery_days_left: float | None = None
    unseen_s: float | None = None

    @property
    def code(self) -> int:
        """The catalogue's status_code of the dominant status."""
        return STATUS_CODES[self.status]


@dataclass(frozen=True)
class SeriesSummary:
    """One beacon's readings at one gateway over a span, folded into what `FleetHealth` keeps of them."""

    beacon: str
    gateway: str
    last_ns: int
    """Time of the newest reading."""
    best_sightings: int = 0
    """Most sightings in one window (readings without the field count 0)."""
    battery: tuple[tuple[int, int], ...] = ()
    """(time_ns, mV) of the newest battery voltage of each clock hour, oldest hour first."""
    first_counters: tuple[int, int, float] | None = None
    """(time_ns, adv_count, uptime_s) of the oldest reading with both TLM counters ..."""
    last_counters: tuple[int, int, float] | None = None
    """... and of the newest."""
    reboot_ns: int | None = None
    """Newest time the counters went down from one reading with both to the next (within the span)."""
    clone_ns: int | None = None
    """Newest time more than one address sent the id."""
    readings: int = 0
    """How many readings were folded."""


def summarize(readings: Iterable[Reading]) -> list[SeriesSummary]:
    """Fold `beacon_sighting` readings, taken in order of time then gateway, into one summary per beacon and
    gateway (the plain-Python definition; the restore computes the same from columns)."""
    series: dict[tuple[str, str], dict] = {}
    for reading in sorted(readings, key=lambda r: (r.time_ns, r.tags.get("gateway", ""))):
        key = (reading.tags.get("beacon"), reading.tags.get("gateway"))
        t, fields = reading.time_ns, reading.fields
        s = series.setdefault(key, {"last_ns": t, "best_sightings": 0, "battery": {}, "first_counters": None,
                                    "last_counters": None, "reboot_ns": None, "clone_ns": None, "readings": 0})
        s["readings"] += 1
        s["last_ns"] = max(s["last_ns"], t)
        s["best_sightings"] = max(s["best_sightings"], int(fields.get("sightings", 0)))
        if "battery_mv" in fields:
            s["battery"][t // HOUR_NS] = (t, int(fields["battery_mv"]))
        if "adv_count" in fields and "uptime_s" in fields:
            now_counters = (t, int(fields["adv_count"]), float(fields["uptime_s"]))
            before = s["last_counters"]
            if before is None:
                s["first_counters"] = s["last_counters"] = now_counters
            elif t > before[0]:
                if now_counters[1] < before[1] or now_counters[2] < before[2]:
                    s["reboot_ns"] = t
                s["last_counters"] = now_counters
        if int(fields.get("addresses", 1)) > 1:
            s["clone_ns"] = t
    return [SeriesSummary(beacon, gateway, s["last_ns"], s["best_sightings"], tuple(s["battery"].values()),
                          s["first_counters"], s["last_counters"], s["reboot_ns"], s["clone_ns"], s["readings"])
            for (beacon, gateway), s in series.items()]


def merge_summaries(earlier: SeriesSummary, later: SeriesSummary) -> SeriesSummary:
    """One beacon's summary at one gateway over two spans, `later` holding only readings newer than any of
    `earlier`'s: the same as `summarize` of both spans' readings together."""
    if (earlier.beacon, earlier.gateway) != (later.beacon, later.gateway):
        raise ValueError(f"summaries of two series: {earlier.beacon}@{earlier.gateway}, {later.beacon}@{later.gateway}")
    if later.last_ns <= earlier.last_ns:
        raise ValueError(f"readings of {later.beacon} at {later.gateway} not newer than the earlier span")
    battery = {t // HOUR_NS: (t, mv) for t, mv in (*earlier.battery, *later.battery)}  # the later of an hour
    reboot = later.reboot_ns
    before, first = earlier.last_counters, later.first_counters
    if reboot is None and before is not None and first is not None and (first[1] < before[1] or first[2] < before[2]):
        reboot = first[0]
    return SeriesSummary(
        earlier.beacon, earlier.gateway, later.last_ns, max(earlier.best_sightings, later.best_sightings),
        tuple(battery.values()), earlier.first_counters or later.first_counters,
        later.last_counters or earlier.last_counters, earlier.reboot_ns if reboot is None else reboot,
        earlier.clone_ns if later.clone_ns is None else later.clone_ns, earlier.readings + later.readings)


def merge_spans(summaries: Iterable[SeriesSummary]) -> list[SeriesSummary]:
    """Summaries of consecutive spans (of several series, each series' spans disjoint in time) merged into
    one per beacon and gateway, in time order of each series' spans."""
    merged: dict[tuple[str, str], SeriesSummary] = {}
    for summary in sorted(summaries, key=lambda s: (s.beacon, s.gateway, s.last_ns)):
        key = (summary.beacon, summary.gateway)
        merged[key] = summary if key not in merged else merge_summaries(merged[key], summary)
    return list(merged.values())


@dataclass
class _Track:
    last_seen_ns: int | None = None
    last_gateway: str | None = None
    best_sightings: int = 0
    battery: list[tuple[int, int]] = field(default_factory=list)  # (time_ns, mV), one per hour
    # gateway -> (time_ns, adv_count, uptime_s) of its latest TLM counters
    counters: dict[str, tuple[int, int, float]] = field(default_factory=dict)
    watched_from_ns: int | None = None  # restored: absence counts from here at the earliest
    restored_days_left: float | None = None  # restored without history: the forecast until a trend exists
    reboot_ns: int | None = None
    clone_ns: int | None = None
    near_ns: int | None = None
    far_ns: int | None = None


class FleetHealth:
    """Keeps per-beacon evidence from readings and reports status changes."""

    def __init__(self, beacons: Mapping, gateways: Mapping[str, tuple[float, float]], thresholds: Thresholds,
                 start_ns: int) -> None:
        self.beacons = beacons
        self.gateways = gateways
        self.thresholds = thresholds
        self.start_ns = start_ns
        self._tracks: dict[str, _Track] = {b: _Track() for b in beacons}
        self._current: dict[str, BeaconStatus] = {}

    def observe(self, reading: Reading) -> None:
        """Take one `beacon_sighting` reading into account (readings of unknown beacons are ignored)."""
        beacon_id, gateway = reading.tags.get("beacon"), reading.tags.get("gateway")
        track = self._tracks.get(beacon_id)
        if track is None:
            return
        t, fields = reading.time_ns, reading.fields
        if track.last_seen_ns is None or t >= track.last_seen_ns:
            track.last_seen_ns, track.last_gateway = t, gateway
        track.best_sightings = max(track.best_sightings, int(fields.get("sightings", 0)))
        if "battery_mv" in fields:
            self._battery(track, t, int(fields["battery_mv"]))
        if "adv_count" in fields and "uptime_s" in fields:
            now_counters = (t, int(fields["adv_count"]), float(fields["uptime_s"]))
            before = track.counters.get(gateway)
            if before is None or t > before[0]:  # an older or repeated window tells nothing about a reboot
                if before is not None and (now_counters[1] < before[1] or now_counters[2] < before[2]):
                    track.reboot_ns = t
                track.counters[gateway] = now_counters
        if int(fields.get("addresses", 1)) > 1:
            track.clone_ns = t
        if gateway in self.gateways:
            beacon = self.beacons[beacon_id]
            far = distance_m(self.gateways[gateway], (beacon.lon, beacon.lat)) > self.thresholds.max_range_m
            if far:
                track.far_ns = max(track.far_ns or t, t)
            else:
                track.near_ns = max(track.near_ns or t, t)

    def observe_summaries(self, summaries: Iterable[SeriesSummary]) -> None:
        """Take folded readings (`summarize`): the same as observing them one by one in order of time, then
        gateway. They must be newer than any TLM counters already observed from their gateways (as at a
        restore); `ValueError` otherwise."""
        by_beacon: dict[str, list[SeriesSummary]] = {}
        for summary in summaries:
            if summary.beacon in self._tracks:
                by_beacon.setdefault(summary.beacon, []).append(summary)
        for beacon_id, group in by_beacon.items():
            track, beacon = self._tracks[beacon_id], self.beacons[beacon_id]
            group.sort(key=lambda s: s.gateway)  # equal times: the greatest gateway comes last, as observed
            newest, gateway = max((s.last_ns, s.gateway) for s in group)
            if track.last_seen_ns is None or newest >= track.last_seen_ns:
                track.last_seen_ns, track.last_gateway = newest, gateway
            track.best_sightings = max(track.best_sightings, *(s.best_sightings for s in group))
            by_hour: dict[int, tuple[int, int]] = {}
            for summary in group:
                for t, mv in summary.battery:
                    hour = t // HOUR_NS
                    if hour not in by_hour or t >= by_hour[hour][0]:
                        by_hour[hour] = (t, mv)
            for t, mv in sorted(by_hour.values()):
                self._battery(track, t, mv)
            reboots, clones = [], [s.clone_ns for s in group if s.clone_ns is not None]
            for summary in group:
                if summary.first_counters is None:
                    continue
                before, first = track.counters.get(summary.gateway), summary.first_counters
                if before is not None:
                    if first[0] <= before[0]:
                        raise ValueError(f"readings of {beacon_id} at {summary.gateway} older than its counters")
                    if first[1] < before[1] or first[2] < before[2]:
                        reboots.append(first[0])
                if summary.reboot_ns is not None:
                    reboots.append(summary.reboot_ns)
                track.counters[summary.gateway] = summary.last_counters
            if reboots:
                track.reboot_ns = max(reboots)
            if clones:
                track.clone_ns = max(clones)
            for summary in group:
                if summary.gateway in self.gateways:
                    t = summary.last_ns
                    if distance_m(self.gateways[summary.gateway], (beacon.lon, beacon.lat)) > self.thresholds.max_range_m:
                        track.far_ns = max(track.far_ns or t, t)
                    else:
                        track.near_ns = max(track.near_ns or t, t)

    def add_battery_history(self, beacon_id: str, samples: list[tuple[int, int]]) -> None:
        """Stored hourly battery voltages (time_ns, mV), oldest first: the same as `add_battery_sample` of each."""
        track = self._tracks.get(beacon_id)
        if track is None:
            return
        hours = [t // HOUR_NS for t, _ in samples]
        if not track.battery and all(a < b for a, b in zip(hours, hours[1:])):
            track.battery = list(samples[-BATTERY_HISTORY_H:])  # one per hour, ascending: nothing to merge
            return
        for t, mv in samples:
            self._battery(track, t, mv)

    def restore(self, status: BeaconStatus, *, with_evidence: bool) -> None:
        """Take `status`, published by the previous run, as the current one (unknown beacons are ignored).

        With evidence (the store's recent readings observed too) only when
        absence started counting is taken from it. Without, the evidence is
        approximated so the status holds until readings say otherwise: a
        beacon not missing counts as unseen from now, a reboot, clone or move
        as seen at `since`, the last battery voltage and forecast as they were.
        """
        track = self._tracks.get(status.beacon)
        if track is None:
            return
        self._current[status.beacon] = status
        if status.last_seen_ns is not None and (track.last_seen_ns is None or status.last_seen_ns > track.last_seen_ns):
            track.last_seen_ns, track.last_gateway = status.last_seen_ns, status.last_gateway
        if status.unseen_s is not None and (with_evidence or status.status == "missing"):
            track.watched_from_ns = status.since_ns - round(status.unseen_s * S)
        elif not with_evidence:
            track.watched_from_ns = self.start_ns  # blind while it was down: absence counts from now
        if with_evidence:
            return
        since = status.since_ns
        track.reboot_ns = since if "rebooted" in status.flags else track.reboot_ns
        track.clone_ns = since if "suspected_clone" in status.flags else track.clone_ns
        track.far_ns = since if "moved" in status.flags else track.far_ns
        if status.battery_mv is not None and not track.battery:
            track.battery.append((status.last_seen_ns or since, status.battery_mv))
            track.restored_days_left = status.battery_days_left

    def add_battery_sample(self, beacon_id: str, time_ns: int, mv: int) -> None:
        """One stored battery voltage for the trend (history read back from the store)."""
        track = self._tracks.get(beacon_id)
        if track is not None:
            self._battery(track, time_ns, mv)

    def evaluate(self, now_ns: int) -> list[BeaconStatus]:
        """Every beacon's status at `now_ns`; returns those whose status or flags changed."""
        changed = []
        for beacon_id in sorted(self._tracks):
            status = self.status_of(beacon_id, now_ns)
            previous = self._current.get(beacon_id)
            if previous is not None and (previous.status, previous.flags) == (status.status, status.flags):
                self._current[beacon_id] = replace(status, since_ns=previous.since_ns)
                continue
            self._current[beacon_id] = status
            changed.append(status)
        return changed

    def current(self) -> dict[str, BeaconStatus]:
        """The statuses of the last evaluation, by beacon id."""
        return dict(self._current)

    def status_of(self, beacon_id: str, now_ns: int) -> BeaconStatus:
        """The status `beacon_id` has at `now_ns` by the rules above."""
        track, beacon, limits = self._tracks[beacon_id], self.beacons[beacon_id], self.thresholds
        flags = set()
        watched_from = track.watched_from_ns
        if track.last_seen_ns is None:
            seen_until = self.start_ns if watched_from is None else watched_from
        else:
            seen_until = max(track.last_seen_ns + limits.window_s * S, watched_from or 0)
        unseen_s = max(0.0, (now_ns - seen_until) / S)
        interval_s = (limits.window_s / track.best_sightings if track.best_sightings
                      else beacon.advertising_interval_ms / 1000)
        if unseen_s > max(limits.missing_min_s, limits.missing_intervals * interval_s):
            flags.add("missing")
        recent = lambda t: t is not None and now_ns - t <= limits.event_hold_s * S  # noqa: E731
        if recent(track.reboot_ns):
            flags.add("rebooted")
        two_windows = 2 * limits.window_s * S
        near_and_far = track.near_ns is not None and track.far_ns is not None and abs(
            track.far_ns - track.near_ns) <= two_windows
        if recent(track.clone_ns) or (recent(track.far_ns) and near_and_far):
            flags.add("suspected_clone")
        elif recent(track.far_ns) and (track.near_ns is None or track.far_ns > track.near_ns + two_windows):
            flags.add("moved")
        battery_mv, days_left = self._battery_outlook(track, beacon.nominal_mv)
        if battery_mv is not None and (battery_mv <= limits.low_battery_fraction * beacon.nominal_mv
                                       or (days_left is not None and days_left <= limits.forecast_days)):
            flags.add("low_battery")
        status = next((name for name in PRECEDENCE if name in flags), "ok")
        return BeaconStatus(beacon_id, status, frozenset(flags), now_ns, track.last_seen_ns, track.last_gateway,
                            battery_mv, days_left, round(unseen_s, 3))

    def _battery(self, track: _Track, t: int, mv: int) -> None:
        if track.battery and t // HOUR_NS == track.battery[-1][0] // HOUR_NS:
            track.battery[-1] = (t, mv)  # keep one sample per hour: the latest
        elif not track.battery or t > track.battery[-1][0]:
            track.battery.append((t, mv))
            del track.battery[:-BATTERY_HISTORY_H]

    def _battery_outlook(self, track: _Track, nominal_mv: int) -> tuple[int | None, float | None]:
        if not track.battery:
            return None, None
        mv = track.battery[-1][1]
        end_of_life = self.thresholds.end_of_life_fraction * nominal_mv
        if mv <= end_of_life:
            return mv, 0.0
        span_s = (track.battery[-1][0] - track.battery[0][0]) / S
        if len(track.battery) < 3 or span_s < self.thresholds.min_trend_span_s:
            return mv, track.restored_days_left
        slope = _slope_mv_per_s(track.battery)
        if slope >= 0:
            return mv, None
        return mv, round(min(36500.0, (mv - end_of_life) / -slope / 86400), 1)


def _slope_mv_per_s(samples: list[tuple[int, int]]) -> float:
    t0 = samples[0][0]
    xs = [(t - t0) / S for t, _ in samples]
    ys = [mv for _, mv in samples]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / spread if spread else 0.0


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (lon, lat) points in degrees."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))
