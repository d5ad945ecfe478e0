"""Interval consumption from cumulative energy registers: roll-overs, meter changes and partial hours.

A meter reports `total_active_energy_import`, a register that only grows, except
when it rolls over (it wraps from its maximum back to 0) or the meter is changed
or cleared. Between two consecutive readings:

- a rise is consumption, unless it is more than the meter could physically
  draw in that time (the catalogue's maximum `total_active_power`): then it is a
  discontinuity (e.g. a replacement meter that already shows a larger value)
  and counts nothing;
- a fall from at least 90 % of the register's range is a roll-over when the
  energy it implies is plausible: consumption is `modulus - previous + current`,
  where the modulus is the register's range from the meter's profile
  (hardware/profiles.yaml, `range: [0, 99999999]` -> 100,000,000 kWh), never a
  guess from the reading's digits;
- any other fall is a meter change or a reset: a discontinuity that counts
  nothing (what was used between the last reading of the old meter and the
  first of the new one is unknown; booking the new meter's reading would be a
  spike).

Consumption between two readings is spread over the hours the interval covers,
in proportion to time; intervals longer than `MAX_GAP_S`, and discontinuities,
are not attributed. Each hour records the share of its 3,600 s that attributed
intervals cover (`covered_ns`), so a partial hour says it is partial. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

HOUR_NS = 3_600 * 1_000_000_000

NS = 1_000_000_000
# Intervals longer than this between two register readings are not spread over hours.
MAX_GAP_S = 2 * 3600
# A fall counts as a roll-over only from at least this share of the register's range...
ROLLOVER_SHARE = 0.9


def register_modulus(range_high: float) -> float:
    """The value at which a register of range [0, range_high] wraps to 0: high plus one step of its
    last digit (99999999 -> 100000000; 999999.99 -> 1000000)."""
    exponent = Decimal(repr(float(range_high))).normalize().as_tuple().exponent
    step = Decimal(1).scaleb(min(int(exponent), 0))
    return float(Decimal(repr(float(range_high))) + step)


def step_consumption(previous: float, current: float, seconds: float, max_kw: float,
                     modulus: float | None) -> tuple[float | None, str]:
    """Energy (kWh) used between two register readings, and what happened: ok | rollover | reset | implausible.

    `modulus` is the register's wrap-around value from its profile (None: unknown, no roll-over).
    """
    limit = max_kw * seconds / 3600
    delta = current - previous
    if delta >= 0:
        return (delta, "ok") if delta <= limit else (None, "implausible")
    if modulus is not None and previous >= ROLLOVER_SHARE * modulus:
        used = modulus - previous + current
        if 0 <= used <= limit:
            return used, "rollover"
    return None, "reset"


@dataclass
class HourEnergy:
    """One hour of one meter: consumption (kWh), register readings, discontinuities seen."""

    kwh: float = 0.0
    attributed: bool = False
    covered_ns: int = 0
    readings: int = 0
    discontinuities: int = 0


@dataclass
class RegisterSeries:
    """Streams one meter's register readings (in time order) into per-hour consumption within [start, end)."""

    start_ns: int
    end_ns: int
    max_kw: float
    modulus: float | None = None
    hours: dict[int, HourEnergy] = field(default_factory=dict)
    _last: tuple[int, float] | None = None

    def add(self, time_ns: int, value: float) -> None:
        """Feed the next reading (readings before `start_ns` and after `end_ns` only bound intervals)."""
        if self._last is not None and time_ns <= self._last[0]:
            return  # same instant twice: the store keeps one; ignore out-of-order repeats
        if self.start_ns <= time_ns < self.end_ns:
            self._hour(time_ns).readings += 1
        if self._last is not None:
            t0, v0 = self._last
            seconds = (time_ns - t0) / NS
            used, what = step_consumption(v0, value, seconds, self.max_kw, self.modulus)
            if what != "ok" and self.start_ns <= time_ns < self.end_ns:
                self._hour(time_ns).discontinuities += 1
            if used is not None and seconds <= MAX_GAP_S:
                self._spread(t0, time_ns, used)
        self._last = (time_ns, value)

    def _hour(self, time_ns: int) -> HourEnergy:
        start = time_ns - (time_ns - self.start_ns) % HOUR_NS
        return self.hours.setdefault(start, HourEnergy())

    def _spread(self, t0: int, t1: int, kwh: float) -> None:
        span = t1 - t0
        at = max(t0, self.start_ns)
        while at < min(t1, self.end_ns):
            hour = self._hour(at)
            edge = min(at - (at - self.start_ns) % HOUR_NS + HOUR_NS, t1)
            hour.kwh += kwh * (edge - at) / span
            hour.covered_ns += edge - at
            hour.attributed = True
            at = edge
