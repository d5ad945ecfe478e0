"""School alerts, evaluated as readings arrive: pure, no I/O, one alert per episode.

Kinds (thresholds in `SchoolAlertSettings`, from the alert service's configuration):

- `co2_ventilate`: a classroom above `co2_ppm` (1,500) for `co2_minutes` (30) in
  teaching hours: ventilate now. The episode starts at the first reading above
  and ends at the first reading back below, or when teaching ends.
- `baseload_up`: a day's electricity baseload (iotorino.schools.energy) more than
  `baseload_share` (20 %) above the median of the school's previous
  `baseload_days` (28) daily baseloads (at least 7 of them); consecutive such days
  are one episode.
- `out_of_hours_spike`: an hour outside the opening hours whose electricity is
  more than `spike_factor` (2×) the median of the school's recent out-of-hours
  hours and at least `spike_min_kwh` (5 kWh) above it.
- `heating_holiday`: heat delivered in an hour of a weekend or holiday, more than
  `heat_on_w_per_m2` (2 W per m² of floor) on average.
- `heating_warm_day`: a day whose outdoor mean (the school's station, 18 hours at
  least) reached `warm_day_c` (16 °C) and whose heat exceeded 0.03 kWh per m².
- `device_silent`: a meter or room sensor silent for more than `silent_factor`
  (3) reporting intervals.

A day or an hour is evaluated when a reading of a later one arrives or when
`advance(now)` finds it over. Electricity and heat per hour come from register
differences (iotorino.schools.registers's rules: roll-overs, meter changes and
implausible jumps count nothing).
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Mapping
from zoneinfo import ZoneInfo

from iotorino.core.alerts import Alert, episode_id
from iotorino.core.school_calendar import SCHOOL, OpeningHours, SchoolCalendar
from iotorino.schools.registers import step_consumption

HOUR_NS = 3_600 * 1_000_000_000
MINUTE_NS = 60 * 1_000_000_000
ROME = ZoneInfo("Europe/Rome")
SCOPE = "school"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class SchoolAlertSettings:
    """Thresholds of the school alerts."""

    co2_ppm: float = 1500.0
    """CO₂ above which a classroom needs air (ppm)."""
    co2_minutes: float = 30.0
    """How long the CO₂ must stay above in teaching hours before the alert (minutes)."""
    baseload_share: float = 0.2
    """A day's baseload this much above the recent median opens `baseload_up` (0.2 = 20 %)."""
    baseload_days: int = 28
    """How many previous days' baseloads make the median."""
    spike_factor: float = 2.0
    """An out-of-hours hour above this multiple of the recent out-of-hours median is a spike."""
    spike_min_kwh: float = 5.0
    """...and at least this many kWh above it."""
    heat_on_w_per_m2: float = 2.0
    """Mean heat power per m² of floor above which heating counts as on in an hour (W/m²)."""
    warm_day_c: float = 16.0
    """A day's outdoor mean at or above this is a warm day (°C)."""
    silent_factor: float = 3.0
    """A device silent for more than this many reporting intervals is silent."""


@dataclass(frozen=True)
class SchoolFacts:
    """What the evaluator needs to know about a school (from the inventory)."""

    id: str
    level: str
    floor_area_m2: float
    opening: OpeningHours
    main_electricity: str | None
    main_heat: str | None
    intervals_s: Mapping[str, int]  # device point (room or meter id) -> reporting interval


def facts_from_inventory(inventory) -> dict[str, SchoolFacts]:
    """`SchoolFacts` of every school of the inventory."""
    out = {}
    for school in inventory.schools.values():
        mains = {}
        intervals = {}
        for meter in school.meters:
            profile = inventory.profiles[meter.profile]
            for measurement in profile.measurements:
                intervals[meter.id] = profile.interval_s(measurement)
                if meter.role == "main":
                    mains[measurement] = meter.id
        for room in school.rooms:
            intervals[room.id] = inventory.profiles[room.profile].interval_s("indoor_climate")
        hours = OpeningHours.parse(school.opening_hours)
        out[school.id] = SchoolFacts(school.id, school.level, school.floor_area_m2, hours,
                                     mains.get("energy"), mains.get("heat"), intervals)
    return out


def _local(time_ns: int) -> datetime:
    return datetime.fromtimestamp(time_ns / 1e9, timezone.utc).astimezone(ROME)


def _day_start_ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=ROME).timestamp()) * 1_000_000_000


@dataclass
class _Register:
    last: tuple[int, float] | None = None
    hours: dict[int, float] = field(default_factory=dict)  # hour start ns -> kWh


@dataclass
class _SchoolState:
    registers: dict[str, _Register] = field(default_factory=dict)  # by meter id
    co2_above_since: dict[str, int] = field(default_factory=dict)  # room -> first reading above
    open: dict[tuple[str, str], Alert] = field(default_factory=dict)  # (kind, point) -> open episode
    baseloads: deque = field(default_factory=lambda: deque(maxlen=60))
    closed_hours: deque = field(default_factory=lambda: deque(maxlen=14 * 16))
    outdoor: dict[date, list[float]] = field(default_factory=dict)
    last_seen: dict[str, int] = field(default_factory=dict)  # point -> last reading
    evaluated_day: date | None = None
    evaluated_hour: int | None = None


class SchoolAlerts:
    """`feed` readings, `advance` the clock: both return the alert updates (opened or ended)."""

    def __init__(self, schools: Mapping[str, SchoolFacts], calendar: SchoolCalendar,
                 settings: SchoolAlertSettings | None = None) -> None:
        self.schools = dict(schools)
        self.calendar = calendar
        self.settings = settings or SchoolAlertSettings()
        self.states: dict[str, _SchoolState] = {}

    def active(self) -> list[Alert]:
        """The episodes going on now."""
        return [a for s in self.states.values() for a in s.open.values()]

    # --- input -------------------------------------------------------------------------------------

    def feed(self, measurement: str, tags: Mapping[str, str], time_ns: int,
             fields: Mapping[str, object]) -> list[Alert]:
        """Take one school reading (`indoor_climate`, `energy`, `heat`, `outdoor_climate`)."""
        school = self.schools.get(tags.get("school", ""))
        if school is None:
            return []
        state = self.states.setdefault(school.id, _SchoolState())
        point = tags.get("room") or tags.get("meter") or "outdoor"
        updates = self._device_back(school, state, point, time_ns)
        state.last_seen[point] = max(time_ns, state.last_seen.get(point, 0))
        updates += self._close_elapsed(school, state, time_ns)
        if measurement == "indoor_climate":
            updates += self._co2(school, state, point, time_ns, fields.get("co2"))
        elif measurement == "energy" and point == school.main_electricity:
            self._register(state, point, time_ns, fields.get("total_active_energy_import"), 2000.0)
        elif measurement == "heat" and point == school.main_heat:
            self._register(state, point, time_ns, fields.get("heat_energy"), 5000.0)
        elif measurement == "outdoor_climate":
            value = fields.get("temperature")
            if _number(value):
                state.outdoor.setdefault(_local(time_ns).date(), []).append(float(value))
        return updates

    def advance(self, now_ns: int, grace_s: float = 300.0) -> list[Alert]:
        """Evaluate hours and days that ended before `now_ns` − grace, and silent devices."""
        updates: list[Alert] = []
        for school_id, state in self.states.items():
            school = self.schools[school_id]
            updates += self._close_elapsed(school, state, now_ns - int(grace_s * 1e9))
            updates += self._silent(school, state, now_ns)
        return updates

    # --- classroom CO₂ ----------------------------------------------------------------------------

    def _teaching(self, school: SchoolFacts, time_ns: int) -> bool:
        local = _local(time_ns)
        if self.calendar.day(local.date(), school.level).kind != SCHOOL:
            return False
        return school.opening.is_open(local.weekday(), local.hour * 60 + local.minute)

    def _co2(self, school, state, room, time_ns, value) -> list[Alert]:
        if not _number(value):
            return []
        key = ("co2_ventilate", room)
        above = float(value) > self.settings.co2_ppm and self._teaching(school, time_ns)
        if not above:
            state.co2_above_since.pop(room, None)
            episode = state.open.pop(key, None)
            return [episode.ended(time_ns)] if episode else []
        since = state.co2_above_since.setdefault(room, time_ns)
        if key in state.open or time_ns - since < self.settings.co2_minutes * MINUTE_NS:
            return []
        rating = 8 if float(value) >= 2000 else 6
        alert = self._alert(school, "co2_ventilate", room, since, rating,
                            (f"Aula {room}: CO₂ sopra {self.settings.co2_ppm:.0f} ppm da oltre "
                             f"{self.settings.co2_minutes:.0f} minuti ({float(value):.0f} ppm).",
                             f"Room {room}: CO₂ above {self.settings.co2_ppm:.0f} ppm for over "
                             f"{self.settings.co2_minutes:.0f} minutes ({float(value):.0f} ppm).",
                             "Aprite le finestre per 5-10 minuti, ora.",
                             "Open the windows for 5-10 minutes, now."))
        state.open[key] = alert
        return [alert]

    # --- registers ------------------------------------------------------------------------------------

    def _register(self, state, meter, time_ns, value, max_kw) -> None:
        if not _number(value):
            return
        register = state.registers.setdefault(meter, _Register())
        if register.last is not None and time_ns > register.last[0]:
            t0, v0 = register.last
            used, _ = step_consumption(v0, float(value), (time_ns - t0) / 1e9, max_kw, None)
            if used is not None and time_ns - t0 <= 2 * HOUR_NS:
                at = t0
                while at < time_ns:
                    edge = min(at - at % HOUR_NS + HOUR_NS, time_ns)
                    register.hours[at - at % HOUR_NS] = register.hours.get(at - at % HOUR_NS, 0.0) + \
                        used * (edge - at) / (time_ns - t0)
                    at = edge
        if register.last is None or time_ns > register.last[0]:
            register.last = (time_ns, float(value))

    # --- hours and days ---------------------------------------------------------------------------------

    def _close_elapsed(self, school, state, now_ns) -> list[Alert]:
        updates: list[Alert] = []
        current_hour = now_ns - now_ns % HOUR_NS
        hours = sorted({h for r in state.registers.values() for h in r.hours if h < current_hour - HOUR_NS})
        for hour in hours:
            if state.evaluated_hour is not None and hour <= state.evaluated_hour:
                continue
            updates += self._hour(school, state, hour)
            state.evaluated_hour = hour
        today = _local(now_ns).date()
        days = sorted({_local(h).date() for r in state.registers.values() for h in r.hours} | set(state.outdoor))
        for day in days:
            if day >= today or (state.evaluated_day is not None and day <= state.evaluated_day):
                continue
            updates += self._day(school, state, day)
            state.evaluated_day = day
        return updates

    def _hour(self, school, state, hour) -> list[Alert]:
        updates: list[Alert] = []
        local = _local(hour)
        kind = self.calendar.day(local.date(), school.level).kind
        open_now = kind == SCHOOL and school.opening.is_open(local.weekday(), local.hour * 60 + local.minute)
        electricity = state.registers.get(school.main_electricity or "")
        kwh = electricity.hours.get(hour) if electricity else None
        if kwh is not None and not open_now:
            updates += self._spike(school, state, hour, kwh)
        heat = state.registers.get(school.main_heat or "")
        heat_kwh = heat.hours.get(hour) if heat else None
        if heat_kwh is not None:
            on = heat_kwh * 1000 > self.settings.heat_on_w_per_m2 * school.floor_area_m2
            updates += self._episode(school, state, "heating_holiday", school.main_heat, hour, hour + HOUR_NS,
                                     on and kind != SCHOOL, 7, self._holiday_texts(kind))
        return updates

    def _spike(self, school, state, hour, kwh) -> list[Alert]:
        history = list(state.closed_hours)
        state.closed_hours.append(kwh)
        if len(history) < 24:
            return []
        median = statistics.median(history)
        spiking = kwh > self.settings.spike_factor * median and kwh - median >= self.settings.spike_min_kwh
        texts = (f"Consumo elettrico fuori orario anomalo: {kwh:.1f} kWh in un'ora (di solito {median:.1f}).",
                 f"Unusual out-of-hours electricity: {kwh:.1f} kWh in an hour (usually {median:.1f}).",
                 "Controllate apparecchi, luci e climatizzazione lasciati accesi.",
                 "Check appliances, lights and air conditioning left on.")
        return self._episode(school, state, "out_of_hours_spike", school.main_electricity, hour, hour + HOUR_NS,
                             spiking, 5, texts)

    def _day(self, school, state, day) -> list[Alert]:
        updates: list[Alert] = []
        start = _day_start_ns(day)
        end = _day_start_ns(day + timedelta(days=1))
        electricity = state.registers.get(school.main_electricity or "")
        if electricity:
            values = sorted(v for h, v in electricity.hours.items() if start <= h < end)
            if len(values) >= 20:
                baseload = sum(values[:4]) / 4
                history = list(state.baseloads)
                state.baseloads.append(baseload)
                recent = history[-self.settings.baseload_days:]
                if len(recent) >= 7:
                    median = statistics.median(recent)
                    up = median > 0 and baseload > (1 + self.settings.baseload_share) * median
                    texts = (f"Il carico di base è salito a {baseload:.1f} kW (mediana recente {median:.1f} kW).",
                             f"Baseload rose to {baseload:.1f} kW (recent median {median:.1f} kW).",
                             "Cercate cosa resta acceso di notte: server, frigoriferi, pompe, luci esterne.",
                             "Look for what stays on at night: servers, fridges, pumps, outdoor lights.")
                    updates += self._episode(school, state, "baseload_up", school.main_electricity, start, end,
                                             up, 5, texts)
        heat = state.registers.get(school.main_heat or "")
        temps = state.outdoor.pop(day, [])
        if heat and len(temps) >= 18:
            mean_c = sum(temps) / len(temps)
            used = sum(v for h, v in heat.hours.items() if start <= h < end)
            warm = mean_c >= self.settings.warm_day_c and used > 0.03 * school.floor_area_m2
            texts = (f"Riscaldamento acceso in una giornata calda ({mean_c:.1f} °C di media esterna, {used:.0f} kWh).",
                     f"Heating on on a warm day ({mean_c:.1f} °C outdoor mean, {used:.0f} kWh).",
                     "Regolate la centrale termica sulla temperatura esterna o spegnetela.",
                     "Set the heating plant to follow the outdoor temperature, or switch it off.")
            updates += self._episode(school, state, "heating_warm_day", school.main_heat, start, end, warm, 6, texts)
        for register in state.registers.values():  # forget hours of days already evaluated
            for hour in [h for h in register.hours if h < start]:
                del register.hours[hour]
        return updates

    @staticmethod
    def _holiday_texts(kind: str) -> tuple[str, str, str, str]:
        when_it, when_en = ("in un giorno di vacanza", "on a holiday") if kind == "holiday" else \
            ("nel fine settimana", "at the weekend")
        return (f"Riscaldamento acceso {when_it}.", f"Heating on {when_en}.",
                "Controllate la programmazione oraria della centrale termica.",
                "Check the heating plant's time schedule.")

    # --- silent devices -----------------------------------------------------------------------------

    def _silent(self, school, state, now_ns) -> list[Alert]:
        updates = []
        for point, last in state.last_seen.items():
            interval = school.intervals_s.get(point)
            if not interval or ("device_silent", point) in state.open:
                continue
            if now_ns - last > self.settings.silent_factor * interval * 1e9:
                alert = self._alert(school, "device_silent", point, last, 4,
                                    (f"{point}: nessun dato da {(now_ns - last) / 6e10:.0f} minuti.",
                                     f"{point}: no data for {(now_ns - last) / 6e10:.0f} minutes.",
                                     "Verificate alimentazione e connessione del dispositivo.",
                                     "Check the device's power and connection."))
                state.open[("device_silent", point)] = alert
                updates.append(alert)
        return updates

    def _device_back(self, school, state, point, time_ns) -> list[Alert]:
        episode = state.open.pop(("device_silent", point), None)
        return [episode.ended(time_ns)] if episode else []

    # --- episodes -------------------------------------------------------------------------------------

    def _episode(self, school, state, kind, point, start, end, condition, rating, texts) -> list[Alert]:
        """Open an episode when `condition` starts holding, end it when it stops; one alert per episode."""
        key = (kind, point)
        episode = state.open.get(key)
        if condition and episode is None:
            state.open[key] = self._alert(school, kind, point, start, rating, texts)
            return [state.open[key]]
        if not condition and episode is not None:
            del state.open[key]
            return [episode.ended(start)]
        return []

    def _alert(self, school, kind, point, start_ns, rating, texts) -> Alert:
        site = f"{school.id}/{point}"
        return Alert(episode_id(SCOPE, kind, site, start_ns), kind, site, start_ns, None, rating, *texts)


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
