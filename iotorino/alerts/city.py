"""Threshold crossings of the street units, evaluated hour by hour as readings arrive: pure, no I/O.

Readings of a unit are gathered into its current UTC hour (local hours share
the boundaries); the hour is evaluated when a reading of a later hour arrives,
or when `advance(now)` finds it over. An hour counts only when valid (75 % of it
covered, `iotorino.indicators.air.hour_value`). Kinds, each one alert per episode:

- `no2_hourly_limit`: hourly NO₂ above the 2008/50/EC limit (200 µg/m³);
- `no2_alert_threshold`: three consecutive hours above the alert threshold (400);
- `pm10_daily_on_course`: the mean of the local day's valid PM10 hours so far,
  from `course_min_hours` of them, above the daily limit (50); the episode ends
  when the mean falls back or the day ends;
- `night_noise_unusual`: a night hour (22-06 local) whose L_Aeq is more than
  `margin_db` above the unit's usual night level (the median of its last
  `history_nights` nights' valid night hours, once it has `min_history` of them).

An episode ends at the end of its last hour above (or, for the PM10 course, at
the end of the day); an hour missing in between ends it as well. Limit values
come from `schemas/air_quality_limits.yaml` (regime in force). Every alert is
indicative: low-cost sensors at a street, not a representative station.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Mapping
from zoneinfo import ZoneInfo

from iotorino.core.alerts import Alert, episode_id
from iotorino.indicators import air, limits

HOUR_NS = 3_600 * 1_000_000_000
ROME = ZoneInfo("Europe/Rome")
SCOPE = "city"
INDICATIVE_IT = "Dato indicativo (sensore a basso costo)."
INDICATIVE_EN = "Indicative data (low-cost sensor)."
IntervalOf = Callable[[str, str], "int | None"]  # (unit, measurement) -> reporting interval in seconds


@dataclass
class _Hour:
    start_ns: int
    sums: dict[str, float] = field(default_factory=dict)  # noise: sums of 10^(L/10)
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class _Episode:
    """An open episode of one kind at one unit, and the end of the last hour that kept it open."""

    alert: Alert
    last_end_ns: int


@dataclass
class _UnitState:
    hours: dict[str, _Hour] = field(default_factory=dict)  # by measurement
    open: dict[str, _Episode] = field(default_factory=dict)  # by kind
    no2_run: list[tuple[int, float]] = field(default_factory=list)  # consecutive hours above the alert threshold
    pm10_day: tuple[object, list[float]] | None = None  # (local date, valid hourly values so far)
    night_history: deque = field(default_factory=deque)


class CityAlerts:
    """The evaluator: `feed` readings, `advance` the clock; both return the alert updates (opened or ended)."""

    def __init__(self, interval_of: IntervalOf, rules: limits.Rules | None = None, *, margin_db: float = 10.0,
                 history_nights: int = 14, min_history: int = 24, course_min_hours: int = 6) -> None:
        rules = rules or limits.default()
        regime = rules.regime("dir2008_50")
        self.validity = rules.validity
        self.no2_limit = next(x.value for x in regime.limits if x.id == "no2_hourly")
        self.pm10_limit = next(x.value for x in regime.limits if x.id == "pm10_daily")
        alert = next(t for t in regime.thresholds if t.id == "no2_alert")
        self.no2_alert, self.no2_alert_hours = alert.value, alert.consecutive
        self.interval_of = interval_of
        self.margin_db, self.min_history, self.course_min_hours = margin_db, min_history, course_min_hours
        self.history_len = history_nights * 8
        self.units: dict[str, _UnitState] = {}

    def active(self) -> list[Alert]:
        """The episodes going on now."""
        return [e.alert for u in self.units.values() for e in u.open.values()]

    def feed(self, unit: str, measurement: str, time_ns: int, fields: Mapping[str, float]) -> list[Alert]:
        """Take one reading of `air_quality` or `noise`; returns the alert updates it caused."""
        if measurement not in ("air_quality", "noise"):
            return []
        state = self.units.setdefault(unit, _UnitState(night_history=deque(maxlen=self.history_len)))
        start = time_ns - time_ns % HOUR_NS
        updates: list[Alert] = []
        hour = state.hours.get(measurement)
        if hour is not None and start > hour.start_ns:
            updates += self._close_hour(unit, state, measurement, hour)
            hour = None
        if hour is None:
            hour = state.hours[measurement] = _Hour(start)
        elif start < hour.start_ns:
            return updates  # a late reading of an hour already evaluated: the store has it, alerts do not go back
        for name, value in fields.items():
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                continue
            contribution = 10 ** (value / 10) if measurement == "noise" else float(value)
            hour.sums[name] = hour.sums.get(name, 0.0) + contribution
            hour.counts[name] = hour.counts.get(name, 0) + 1
        return updates

    def advance(self, now_ns: int, grace_s: float = 300.0) -> list[Alert]:
        """Evaluate every gathered hour that ended more than `grace_s` before `now_ns`."""
        grace = int(grace_s * 1e9)
        updates: list[Alert] = []
        for unit, state in self.units.items():
            for measurement, hour in list(state.hours.items()):
                if hour.start_ns + HOUR_NS + grace <= now_ns:
                    del state.hours[measurement]
                    updates += self._close_hour(unit, state, measurement, hour)
            # A silent unit: an episode whose next hour is over without data ends with its last hour,
            # the PM10 course with its day.
            for kind, episode in list(state.open.items()):
                end = episode.last_end_ns
                if kind == "pm10_daily_on_course":
                    end = _midnight_ns(_local_date(episode.alert.start_ns) + timedelta(days=1))
                    due = end + grace
                else:
                    due = end + HOUR_NS + grace
                if due <= now_ns:
                    updates.append(episode.alert.ended(end))
                    del state.open[kind]
        return updates

    # --- evaluation of one complete hour ---------------------------------------------------

    def _close_hour(self, unit: str, state: _UnitState, measurement: str, hour: _Hour) -> list[Alert]:
        interval = self.interval_of(unit, measurement)
        if measurement == "noise":
            return self._noise_hour(unit, state, hour, interval)
        values = {}
        for p in ("no2", "pm10"):
            count = hour.counts.get(p, 0)
            mean = hour.sums[p] / count if count else None
            values[p] = air.hour_value(count, mean, interval, self.validity).value
        return self._no2_hour(unit, state, hour.start_ns, values["no2"]) + \
            self._pm10_hour(unit, state, hour.start_ns, values["pm10"])

    def _no2_hour(self, unit: str, state: _UnitState, start: int, no2: float | None) -> list[Alert]:
        out = []
        above = no2 is not None and air.exceeds(no2, self.no2_limit)
        out += self._step(unit, state, "no2_hourly_limit", start, above, lambda: self._alert(
            unit, "no2_hourly_limit", start, min(10, 6 + int((no2 - self.no2_limit) // 50)),
            f"NO₂ orario {no2:.0f} µg/m³ oltre il valore limite di {self.no2_limit:.0f} µg/m³ "
            f"(Dir. 2008/50/CE: al massimo 18 ore l'anno) alla centralina {unit}.",
            f"Hourly NO₂ {no2:.0f} µg/m³ above the {self.no2_limit:.0f} µg/m³ limit value "
            f"(Directive 2008/50/EC: at most 18 hours a year) at unit {unit}.",
            "Verificare il traffico nella zona e confrontare con le stazioni ARPA Piemonte.",
            "Check the traffic in the area and compare with the ARPA Piemonte stations."))
        run = state.no2_run
        if no2 is not None and air.exceeds(no2, self.no2_alert):
            if run and run[-1][0] + HOUR_NS != start:
                run.clear()
            run.append((start, no2))
        else:
            run.clear()
        on = len(run) >= self.no2_alert_hours
        first = run[0][0] if run else start
        out += self._step(unit, state, "no2_alert_threshold", start, on, lambda: self._alert(
            unit, "no2_alert_threshold", first, 9,
            f"NO₂ oltre la soglia di allarme di {self.no2_alert:.0f} µg/m³ per {len(run)} ore consecutive "
            f"(Dir. 2008/50/CE All. XII A) alla centralina {unit}.",
            f"NO₂ above the {self.no2_alert:.0f} µg/m³ alert threshold for {len(run)} consecutive hours "
            f"(Directive 2008/50/EC Annex XII A) at unit {unit}.",
            "Informare la popolazione della zona; valutare misure di breve termine sul traffico.",
            "Inform the people in the area; consider short-term traffic measures."))
        return out

    def _pm10_hour(self, unit: str, state: _UnitState, start: int, pm10: float | None) -> list[Alert]:
        out = []
        day = _local_date(start)
        if state.pm10_day is None or state.pm10_day[0] != day:
            episode = state.open.pop("pm10_daily_on_course", None)
            if episode is not None:  # the day ended: the episode ends at the local midnight that closed it
                out.append(episode.alert.ended(_midnight_ns(state.pm10_day[0] + timedelta(days=1))))
            state.pm10_day = (day, [])
        hours = state.pm10_day[1]
        if pm10 is not None:
            hours.append(pm10)
        mean = sum(hours) / len(hours) if hours else 0.0
        on = len(hours) >= self.course_min_hours and air.exceeds(mean, self.pm10_limit)
        out += self._step(unit, state, "pm10_daily_on_course", start, on, lambda: self._alert(
            unit, "pm10_daily_on_course", start, 6,
            f"PM10: media delle {len(hours)} ore valide di oggi {mean:.0f} µg/m³, in rotta per superare il "
            f"valore limite giornaliero di {self.pm10_limit:.0f} µg/m³ alla centralina {unit}.",
            f"PM10: today's mean over {len(hours)} valid hours is {mean:.0f} µg/m³, on course to exceed the "
            f"{self.pm10_limit:.0f} µg/m³ daily limit value at unit {unit}.",
            "Valutare le misure antismog previste (limitazioni al traffico, riscaldamento).",
            "Consider the planned anti-smog measures (traffic and heating restrictions)."), gap_closes=False)
        return out

    def _noise_hour(self, unit: str, state: _UnitState, hour: _Hour, interval: int | None) -> list[Alert]:
        start = hour.start_ns
        count = hour.counts.get("laeq", 0)
        local_hour = datetime.fromtimestamp(start // 1_000_000_000, timezone.utc).astimezone(ROME).hour
        night = local_hour >= 22 or local_hour < 6
        covered = bool(interval) and count * interval / 3600 >= self.validity.hour_min_share - 1e-12
        level = 10 * math.log10(hour.sums["laeq"] / count) if count else None
        on = False
        usual = None
        if night and covered and level is not None:
            history = state.night_history
            if len(history) >= self.min_history:
                usual = statistics.median(history)
                on = level > usual + self.margin_db
            history.append(level)
        return self._step(unit, state, "night_noise_unusual", start, on, lambda: self._alert(
            unit, "night_noise_unusual", start, 5,
            f"Rumore notturno {level:.0f} dB(A), {level - usual:.0f} dB sopra il livello notturno consueto "
            f"({usual:.0f} dB(A)) alla centralina {unit}.",
            f"Night noise {level:.0f} dB(A), {level - usual:.0f} dB above the usual night level "
            f"({usual:.0f} dB(A)) at unit {unit}.",
            "Verificare la causa (cantieri, eventi, locali) e le autorizzazioni in deroga.",
            "Check the cause (works, events, venues) and any permitted exemptions."))

    def _step(self, unit: str, state: _UnitState, kind: str, start: int, on: bool, make: Callable[[], Alert],
              gap_closes: bool = True) -> list[Alert]:
        """Open, keep or end the episode of `kind` after the hour starting at `start`."""
        out = []
        episode = state.open.get(kind)
        if episode is not None and (not on or (gap_closes and episode.last_end_ns != start)):
            out.append(episode.alert.ended(episode.last_end_ns))
            del state.open[kind]
            episode = None
        if on:
            if episode is None:
                alert = make()
                state.open[kind] = _Episode(alert, start + HOUR_NS)
                out.append(alert)
            else:
                episode.last_end_ns = start + HOUR_NS
        return out

    def _alert(self, unit: str, kind: str, start: int, rating: int, it: str, en: str, action_it: str,
               action_en: str) -> Alert:
        return Alert(episode_id(SCOPE, kind, unit, start), kind, unit, start, None, rating,
                     f"{it} {INDICATIVE_IT}", f"{en} {INDICATIVE_EN}", action_it, action_en)


def _local_date(time_ns: int):
    return datetime.fromtimestamp(time_ns // 1_000_000_000, timezone.utc).astimezone(ROME).date()


def _midnight_ns(day) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=ROME).timestamp()) * 1_000_000_000
