"""What each kind of simulated device measures: one small model per catalogue measurement.

A model is built once per device stream with that stream's own random
generator (so its draws depend only on the seed and the device, not on the
rest of the fleet) and is then asked for `fields(ms, t)` in time order; `ms`
is UTC milliseconds, `t` the same instant in Turin local time. Values are in
the catalogue's canonical units (µg/m³, mg/m³, dB, °C, %RH, hPa, m/s, °, mm,
ppm, kWh, W). Stateful models (classroom CO₂, meter registers) carry their
state forward between calls.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timezone

from iotorino.simulate import city

# Registers are taken to have started counting at this date (meter installation), UTC.
METER_EPOCH_MS = int(datetime(2015, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)
OUTDOOR_CO2_PPM = 420.0


def _clamp(value: float, low: float, high: float) -> float:
    return min(high, max(low, value))


class StreetAirQuality:
    """Low-cost air-quality sensor by a road: NO₂, CO and PM follow traffic; O₃ the afternoon sun."""

    def __init__(self, seed: int, rng: random.Random, interval_s: int) -> None:
        self.seed, self.rng = seed, rng
        self.exposure = rng.uniform(0.6, 1.4)  # how close to a busy road: 0.6 park, 1.4 arterial
        self.pm_local = rng.uniform(0.85, 1.15)

    def fields(self, ms: int, t: datetime) -> dict[str, float]:
        rng, traffic, winter = self.rng, city.traffic(t), 1 - city.summer_weight(t)
        d = city.day(self.seed, t.date())
        h = city.hour_of_day(t)
        no2 = (14 + 22 * winter) * math.sqrt(d.stagnation) + 62 * traffic * self.exposure
        no2 = _clamp(no2 * rng.lognormvariate(0, 0.08), 10, 120)
        inversion = 1 + 0.25 * winter * math.cos(2 * math.pi * (h - 23) / 24)  # night-time lid on the valley
        pm25 = (8 + 30 * winter) * d.stagnation * self.pm_local * inversion + 8 * traffic
        pm25 = _clamp(pm25 * rng.lognormvariate(0, 0.1), 5, 60)
        pm10 = _clamp(pm25 * 1.3 + 6 * traffic * self.exposure + rng.uniform(1, 4), 10, 90)
        sun = city.summer_weight(t)
        o3 = 12 + 20 * sun + (95 * sun + 12) * math.exp(-(((h - 15) / 3) ** 2)) - 0.12 * no2
        o3 = _clamp(o3 * rng.lognormvariate(0, 0.08), 2, 240)
        co = _clamp((0.2 + 0.15 * winter + 1.2 * traffic * self.exposure) * rng.lognormvariate(0, 0.08), 0.2, 2.0)
        return {
            "pm1": round(pm25 * rng.uniform(0.68, 0.76), 1),
            "pm25": round(pm25, 1),
            "pm10": round(pm10, 1),
            "no2": round(no2, 1),
            "o3": round(o3, 1),
            "co": round(co, 2),
        }


class StreetNoise:
    """Sound level meter: LAeq follows traffic (quiet nights), LAmax a few events above it."""

    def __init__(self, seed: int, rng: random.Random, interval_s: int) -> None:
        self.rng = rng
        self.site_db = rng.uniform(-4.0, 5.0)  # a square is quieter than an arterial road

    def fields(self, ms: int, t: datetime) -> dict[str, float]:
        laeq = 46 + 24 * min(city.traffic(t), 1.0) ** 0.8 + self.site_db + self.rng.gauss(0, 1.2)
        laeq = _clamp(laeq, 40, 80)
        lamax = min(115.0, laeq + 9 + self.rng.expovariate(1 / 4))
        return {"laeq": round(laeq, 1), "lamax": round(lamax, 1)}


class StreetWeather:
    """Weather station: the city's weather plus a small, fixed microclimate of the site."""

    def __init__(self, seed: int, rng: random.Random, interval_s: int) -> None:
        self.seed, self.rng, self.interval_s = seed, rng, interval_s
        self.heat_island_c = rng.gauss(0.3, 0.4)
        self.altitude_hpa = rng.uniform(-3.0, 2.0)  # the hill side of the Po stands higher
        self.shelter = rng.uniform(0.5, 1.2)

    def fields(self, ms: int, t: datetime) -> dict[str, float]:
        rng, d = self.rng, city.day(self.seed, t.date())
        temperature = city.outdoor_temperature(self.seed, t) + self.heat_island_c + rng.gauss(0, 0.15)
        humidity = _clamp(city.outdoor_humidity(self.seed, t) - 3 * self.heat_island_c + rng.gauss(0, 1.5), 15, 100)
        wind = max(0.0, d.wind_mean_ms * self.shelter * (0.7 + 0.5 * city.traffic(t)) + rng.gauss(0, 0.4))
        rain = city.rain_rate(self.seed, t) * self.interval_s / 3600 * rng.uniform(0.7, 1.3)
        return {
            "temperature": round(temperature, 1),
            "relative_humidity": round(humidity, 1),
            "atmospheric_pressure": round(city.pressure(self.seed, t) + self.altitude_hpa + rng.gauss(0, 0.2), 1),
            "wind_speed": round(wind, 1),
            "wind_direction": round((d.wind_from_deg + rng.gauss(0, 25)) % 360, 0),
            "precipitation": round(rain, 1),
        }


class SchoolOutdoor:
    """A school's outdoor station: temperature, humidity and CO₂ (a little above background near traffic)."""

    def __init__(self, seed: int, rng: random.Random, interval_s: int) -> None:
        self.seed, self.rng = seed, rng
        self.offset_c = rng.gauss(0.0, 0.4)

    def fields(self, ms: int, t: datetime) -> dict[str, float]:
        rng = self.rng
        return {
            "temperature": round(city.outdoor_temperature(self.seed, t) + self.offset_c + rng.gauss(0, 0.15), 1),
            "relative_humidity": round(_clamp(city.outdoor_humidity(self.seed, t) + rng.gauss(0, 1.5), 15, 100), 1),
            "co2": round(OUTDOOR_CO2_PPM + 25 * city.traffic(t) + rng.gauss(0, 5), 0),
        }


class Classroom:
    """A classroom: CO₂ builds up during lessons and drops when windows open; heated in season.

    CO₂ relaxes exponentially towards a target: 420 ppm + the room's full-class
    excess (1000-2000 ppm in all) with windows shut, near-outdoor with windows
    open (time constant 6 min) or overnight (90 min).
    """

    STEP_S = 300  # warm-up step before the first report

    def __init__(self, seed: int, rng: random.Random, interval_s: int, level: str) -> None:
        self.seed, self.rng, self.level = seed, rng, level
        self.full_class_ppm = rng.uniform(1000, 2000)
        self.offset_c = rng.uniform(-0.5, 0.6)
        self.airing_hour = -1
        self.airing_minutes = 0.0
        self.co2 = OUTDOOR_CO2_PPM + rng.uniform(0, 30)
        self.temperature = None
        self.last_ms = None

    def fields(self, ms: int, t: datetime) -> dict[str, float]:
        if self.last_ms is None:
            self.temperature = self._target_temperature(t, 0.0, False)
            for back in range(36, 0, -1):  # three hours at 5 min, so the first value is in a steady state
                earlier = ms - back * self.STEP_S * 1000
                self._step(earlier, datetime.fromtimestamp(earlier / 1000, tz=t.tzinfo), self.STEP_S)
        else:
            self._step(ms, t, (ms - self.last_ms) / 1000)
        self.last_ms = ms
        present = city.pupils_present(self.level, t)
        humidity = (35 if city.heating_on(t) else 55) + 10 * present + self.rng.gauss(0, 1.0)
        return {
            "temperature": round(self.temperature + self.rng.gauss(0, 0.05), 1),
            "relative_humidity": round(_clamp(humidity, 20, 80), 1),
            "co2": round(self.co2 + self.rng.gauss(0, 8), 0),
        }

    def _windows_open(self, t: datetime, present: float) -> bool:
        """Windows open at the morning break and, in some lesson hours, for the first few minutes."""
        if present == 0.0:
            return False
        h = city.hour_of_day(t)
        if 10.25 <= h < 10.5:
            return True
        if t.hour != self.airing_hour:
            self.airing_hour = t.hour
            self.airing_minutes = self.rng.choice((0.0, 0.0, 5.0, 10.0))
        return t.minute < self.airing_minutes

    def _target_temperature(self, t: datetime, present: float, airing: bool) -> float:
        if city.heating_on(t):
            h = city.hour_of_day(t)
            heated = city.school_open(t) and 6.5 <= h < 17.0
            base = (20.3 if heated else 19.2) + self.offset_c
        else:
            base = 11 + 0.5 * city.outdoor_temperature(self.seed, t)
        return base + 0.9 * present - (0.8 if airing else 0.0)

    def _step(self, ms: int, t: datetime, dt_s: float) -> None:
        present = city.pupils_present(self.level, t)
        airing = self._windows_open(t, present)
        if airing:
            target, tau_s = OUTDOOR_CO2_PPM + 10, 360
        elif present > 0:
            target, tau_s = OUTDOOR_CO2_PPM + (self.full_class_ppm - OUTDOOR_CO2_PPM) * present, 2100
        else:
            target, tau_s = OUTDOOR_CO2_PPM + 10, 5400
        self.co2 = target + (self.co2 - target) * math.exp(-dt_s / tau_s)
        goal = self._target_temperature(t, present, airing)
        self.temperature = goal + (self.temperature - goal) * math.exp(-dt_s / 2400)


class EnergyMeter:
    """One of a school's electricity meters: power follows the school day; the register only grows.

    School power: a night and weekend baseload of 1.5-10 kW by floor area,
    rising on school days by lighting, computers and kitchens per pupil. The
    main incomer measures the whole school, a sub-board 8-25 % of it. The register
    starts from what the meter would have counted since `METER_EPOCH_MS` at
    the average load, then integrates the simulated power.
    """

    def __init__(self, seed: int, rng: random.Random, interval_s: int, school, main: bool) -> None:
        self.rng, self.level = rng, school.level
        self.share = 1.0 if main else rng.uniform(0.08, 0.25)  # a sub-board carries part of the load
        area = float(school.floor_area_m2)
        self.baseload_kw = 1.5 + 8.5 * _clamp((area - 600) / (9000 - 600), 0.0, 1.0)
        self.daytime_kw = 1.8 * self.baseload_kw + 0.015 * float(school.pupils)
        self.register_kwh = None
        self.last_ms = None
        self.last_w = 0.0

    def school_kw(self, t: datetime) -> float:
        """The whole school's expected power at local time t, kW."""
        if not city.school_open(t):
            return self.baseload_kw
        h = city.hour_of_day(t)
        ramp_up = _clamp((h - 6.5) / 1.5, 0.0, 1.0)
        end = city.LESSONS_END_H.get(self.level, city.LESSONS_END_H["secondaria_1"])
        level = ramp_up if h < end else (0.35 if h < 18.5 else 0.0)  # cleaning and afternoon activities
        return self.baseload_kw + self.daytime_kw * level

    def fields(self, ms: int, t: datetime) -> dict[str, float]:
        watts = 1000 * self.share * self.school_kw(t) * self.rng.lognormvariate(0, 0.04)
        if self.register_kwh is None:
            mean_kw = self.share * (self.baseload_kw + 0.25 * self.daytime_kw)
            self.register_kwh = self.rng.uniform(5_000, 60_000) + mean_kw * (ms - METER_EPOCH_MS) / 3.6e6
        else:
            self.register_kwh += (self.last_w + watts) / 2 * (ms - self.last_ms) / 3.6e9
        self.last_ms, self.last_w = ms, watts
        return {"total_active_energy_import": round(self.register_kwh, 2), "total_active_power": round(watts, 0)}


class HeatMeter:
    """A school's heat meter: heat follows the outdoor temperature while the heating schedule runs.

    Power while on: the building's heat loss `ua_kw_per_k` × (20 °C − outdoor), doubled in the
    first hour (the morning boost), sized so a school uses about 95 kWh/m² in a Turin winter; off,
    nothing. The schedule, and the waste injected on known days, come from `city.heating_plan`.
    Flow temperature follows a heating curve (45 °C + 1.2 K per K below 20 °C outdoors), the return
    is 12 K lower while on; both cool towards 25 °C while off. The register integrates the power.
    """

    def __init__(self, seed: int, rng: random.Random, interval_s: int, school) -> None:
        self.seed, self.rng, self.school = seed, rng, school
        self.ua_kw_per_k = 0.0055 * float(school.floor_area_m2)
        self.register_kwh = None
        self.last_ms = None
        self.last_w = 0.0
        self.flow_c = 25.0

    def heat_kw(self, t: datetime) -> float:
        """The school's expected heat demand at local time t, kW."""
        plan = city.heating_plan(self.seed, self.school.id, self.school.level, t.date())
        h = city.hour_of_day(t)
        if not plan.on or not plan.start_h <= h < plan.end_h:
            return 0.0
        deficit = max(0.0, 20.0 - city.outdoor_temperature(self.seed, t))
        boost = 2.0 if h < plan.start_h + 1.0 else 1.0
        return self.ua_kw_per_k * max(deficit, 3.0) * boost

    def fields(self, ms: int, t: datetime) -> dict[str, float]:
        kw = self.heat_kw(t)
        watts = 1000 * kw * self.rng.lognormvariate(0, 0.03) if kw else 0.0
        if self.register_kwh is None:
            yearly = 95.0 * float(self.school.floor_area_m2)
            self.register_kwh = self.rng.uniform(10_000, 200_000) + yearly * (ms - METER_EPOCH_MS) / (365.25 * 8.64e7)
        else:
            self.register_kwh += (self.last_w + watts) / 2 * (ms - self.last_ms) / 3.6e9
        self.last_ms, self.last_w = ms, watts
        outdoor = city.outdoor_temperature(self.seed, t)
        target = 45.0 + 1.2 * max(0.0, 20.0 - outdoor) if watts else 25.0
        self.flow_c = target + (self.flow_c - target) * 0.3
        flow = _clamp(self.flow_c + self.rng.gauss(0, 0.3), 2, 130)
        spread = 12.0 if watts else 1.0
        return {
            "heat_energy": round(self.register_kwh, 1),
            "heat_power": round(watts, 0),
            "flow_temperature": round(flow, 1),
            "return_temperature": round(_clamp(flow - spread, 2, 130), 1),
        }
