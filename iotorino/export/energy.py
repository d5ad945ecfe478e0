"""Interval consumption from cumulative energy registers: resets and roll-overs without negative or spiking values.

A meter reports `total_active_energy_import`, a register that only grows, except
when it rolls over (a register of N digits wraps from 99…9 to 0) or is reset
(meter replaced or cleared: it starts again near 0). Between two readings:

- a rise is consumption, unless it is more than the meter could physically
  draw in that time (the catalogue's maximum `total_active_power`): then it is a
  discontinuity (e.g. a replaced meter with a non-zero start) and counts nothing;
- a fall from at least 90 % of a power of ten (≥ 10 000 kWh) is a roll-over:
  consumption is `10^N - previous + current`;
- any other fall is a reset: consumption is the current value (counted since 0),
  if plausible.

Consumption between two readings is spread over the hours the interval covers,
in proportion to time; intervals longer than `MAX_GAP_S` are not attributed
(nobody knows when that energy was used). Everything here is pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from iotorino.export.window import HOUR_NS

NS = 1_000_000_000
# Intervals longer than this between two register readings are not spread over hours.
MAX_GAP_S = 2 * 3600
# A fall counts as a roll-over only from at least this share of the register's range...
ROLLOVER_SHARE = 0.9
# ...and only for registers of at least this many kWh (real registers have ≥ 5 digits).
MIN_ROLLOVER_MODULUS = 10_000


def step_consumption(previous: float, current: float, seconds: float, max_kw: float) -> tuple[float | None, str]:
    """Energy (kWh) used between two register readings, and what happened: ok | rollover | reset | implausible."""
    limit = max_kw * seconds / 3600
    delta = current - previous
    if delta >= 0:
        return (delta, "ok") if delta <= limit else (None, "implausible")
    modulus = 10 ** len(str(int(previous))) if previous >= 1 else 1
    if modulus >= MIN_ROLLOVER_MODULUS and previous >= ROLLOVER_SHARE * modulus:
        used = modulus - previous + current
        if used <= limit:
            return used, "rollover"
    if 0 <= current <= limit:
        return current, "reset"
    return None, "implausible"


@dataclass
class HourEnergy:
    """One hour of one meter: consumption (kWh), register readings, discontinuities seen."""

    kwh: float = 0.0
    attributed: bool = False
    readings: int = 0
    discontinuities: int = 0


@dataclass
class RegisterSeries:
    """Streams one meter's register readings (in time order) into per-hour consumption within [start, end)."""

    start_ns: int
    end_ns: int
    max_kw: float
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
            used, what = step_consumption(v0, value, seconds, self.max_kw)
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
            hour.attributed = True
            at = edge
