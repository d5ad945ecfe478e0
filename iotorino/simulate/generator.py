"""The pure fleet generator: every device's messages for a period, in time order, as bytes.

`iter_messages` plans one stream per (device, measurement) from the
inventory, using the interval of the device's profile, and merges the streams
by device time. No I/O: the publisher sends what this yields.

Determinism: every stream draws from its own `random.Random` seeded with
`"{seed}/{topic}"` (and a second one for faults), and city-wide conditions
are drawn per day from the seed, so the same inventory, seed and period give
a byte-identical sequence. Each stream reports at fixed instants
`k * interval + phase` (phase drawn per stream), so consecutive periods join
without gaps or overlaps.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Callable, Iterator, Mapping, NamedTuple

from iotorino.core import contract
from iotorino.core.catalogue import Catalogue, MeasurementSpec
from iotorino.core.errors import ConfigError
from iotorino.simulate import faults, models
from iotorino.simulate.period import TURIN, from_ms, local, to_ms

STREET_MODELS = {
    "air_quality": models.StreetAirQuality,
    "noise": models.StreetNoise,
    "weather": models.StreetWeather,
}
OUTDOOR = "outdoor"  # the point of a school's outdoor station in topics


class SimMessage(NamedTuple):
    """One simulated MQTT message; `fault` names the injected fault kind, or None."""

    topic: str
    payload: bytes
    sim_time: datetime
    fault: str | None


@dataclass(frozen=True)
class Stream:
    """One device's reports of one measurement: where they go, how often, and the model behind them."""

    topic: str
    measurement: str
    interval_s: int
    not_before_ms: int  # installation: no reports before this instant
    make_model: Callable[[int, random.Random, int], object]
    # The fields the device measures, each with its sensor's range [low, high]
    # (readings saturate there, as a real sensor's do), in catalogue units.
    ranges: Mapping[str, tuple[float, float]]

    def first_ms(self, seed: int, start_ms: int) -> int:
        """The first report instant at or after `start_ms` (phase fixed by seed and topic)."""
        interval_ms = self.interval_s * 1000
        phase = random.Random(f"{seed}/{self.topic}/phase").randrange(interval_ms)
        begin = max(start_ms, self.not_before_ms)
        return begin + (phase - begin) % interval_ms

    def count(self, seed: int, start_ms: int, end_ms: int) -> int:
        """How many reports fall in [start_ms, end_ms)."""
        first = self.first_ms(seed, start_ms)
        return 0 if first >= end_ms else (end_ms - first - 1) // (self.interval_s * 1000) + 1


def plan(inventory, catalogue: Catalogue) -> list[Stream]:
    """Every stream the inventory's devices report, from their profiles' intervals."""
    streams = []
    for unit in _values(inventory.street_units):
        profile = _profile(inventory, unit.profile)
        for measurement in profile.measurements:
            model = STREET_MODELS.get(measurement)
            if model is None:
                raise ConfigError(
                    f"profile {profile.id}", f"no simulation model for measurement {measurement!r}", ", ".join(STREET_MODELS)
                )
            topic = contract.street_topic(unit.id, measurement)
            streams += _stream(topic, measurement, profile, _installed_ms(unit), model, catalogue)
    for school in _values(inventory.schools):
        points = [(room.id, "indoor_climate", room.profile, _bind(models.Classroom, level=school.level)) for room in school.rooms]
        for meter in school.meters:
            for measurement in _profile(inventory, meter.profile).measurements:
                if measurement == "heat":
                    points.append((meter.id, "heat", meter.profile, _bind(models.HeatMeter, school=school)))
                else:  # the main incomer measures the whole building, a sub-board part of it
                    points.append((meter.id, measurement, meter.profile,
                                   _bind(models.EnergyMeter, school=school, main=meter.role == "main")))
        if getattr(school, "outdoor_profile", None):
            points.append((OUTDOOR, "outdoor_climate", school.outdoor_profile, models.SchoolOutdoor))
        for point, measurement, profile_ref, model in points:
            topic = contract.school_topic(school.id, point, measurement)
            streams += _stream(topic, measurement, _profile(inventory, profile_ref), 0, model, catalogue)
    return streams


def iter_messages(
    inventory, catalogue: Catalogue, start: datetime, end: datetime, seed: int, fault_rate: float = 0.0
) -> Iterator[SimMessage]:
    """All messages of the fleet with device times in [start, end), ordered by (time, topic)."""
    start_ms, end_ms = to_ms(start), to_ms(end)
    per_stream = [
        _messages(stream, catalogue.measurement(stream.measurement), seed, fault_rate, start_ms, end_ms)
        for stream in plan(inventory, catalogue)
    ]
    for ms, topic, payload, fault in heapq.merge(*per_stream):
        yield SimMessage(topic, payload, from_ms(ms), fault)


def count_messages(inventory, catalogue: Catalogue, start: datetime, end: datetime, seed: int) -> int:
    """How many messages `iter_messages` yields for this period (faults included), without generating them."""
    start_ms, end_ms = to_ms(start), to_ms(end)
    return sum(stream.count(seed, start_ms, end_ms) for stream in plan(inventory, catalogue))


def encode(ms: int, fields: dict[str, float]) -> bytes:
    """The native payload: `{"time": "...Z", "fields": {...}}`, compact UTF-8 JSON."""
    return contract.encode(fields, ms * 1_000_000)


def _messages(stream: Stream, spec: MeasurementSpec, seed: int, fault_rate: float, start_ms: int, end_ms: int):
    """One stream's (ms, topic, payload, fault) tuples, in time order."""
    fault_rng = random.Random(f"{seed}/{stream.topic}/faults")
    previous = None
    for ms, fields in stream_fields(stream, seed, start_ms, end_ms):
        fault = faults.draw(fault_rng, fault_rate)
        if fault == faults.STUCK and previous is None:
            fault = None
        sent = previous if fault == faults.STUCK else fields
        if fault == faults.OUT_OF_RANGE:
            sent = faults.spike(fields, spec, fault_rng)
        payload = encode(ms, sent)
        if fault == faults.MALFORMED:
            payload = faults.truncate(payload, fault_rng)
        elif fault == faults.MISSING:
            payload = b""
        if fault is None:
            previous = fields
        yield ms, stream.topic, payload, fault


def stream_fields(stream: Stream, seed: int, start_ms: int, end_ms: int) -> Iterator[tuple[int, dict[str, float]]]:
    """One stream's (ms, fields) as its device measures them, before any fault: the values every message carries."""
    model = stream.make_model(seed, random.Random(f"{seed}/{stream.topic}"), stream.interval_s)
    ranges = stream.ranges.items()
    for ms in range(stream.first_ms(seed, start_ms), end_ms, stream.interval_s * 1000):
        measured = model.fields(ms, local(ms))
        yield ms, {k: min(high, max(low, measured[k])) for k, (low, high) in ranges}


def _stream(topic: str, measurement: str, profile, not_before_ms: int, model, catalogue: Catalogue) -> list[Stream]:
    """The stream of `measurement` from a device with `profile` ([] if the profile does not report it)."""
    interval = profile.interval_s(measurement)
    if not interval:
        return []
    spec = catalogue.measurement(measurement)
    quantities = profile.quantities(measurement) if hasattr(profile, "quantities") else {}
    ranges = {
        name: (quantities[name].low, quantities[name].high) if name in quantities else (field.low, field.high)
        for name, field in spec.fields.items()
        if not quantities or name in quantities
    }
    return [Stream(topic, measurement, int(interval), not_before_ms, model, ranges)]


def _values(collection):
    """The items of an inventory collection, whether a mapping by id or a sequence."""
    return collection.values() if isinstance(collection, Mapping) else collection


def _bind(model_class, **extra):
    """A model factory with the device's extra arguments (school level, meter share) filled in."""
    return lambda seed, rng, interval_s: model_class(seed, rng, interval_s, **extra)


def _profile(inventory, ref):
    """A device's profile, whether the inventory gives the object or its id."""
    if isinstance(ref, str):
        try:
            return inventory.profiles[ref]
        except KeyError:
            raise ConfigError("profile", f"unknown device profile {ref!r}", ", ".join(sorted(inventory.profiles))) from None
    return ref


def _installed_ms(unit) -> int:
    """Local midnight of the unit's installation day (0 if the inventory has none)."""
    installed = getattr(unit, "installed", None)
    if isinstance(installed, str):
        installed = date.fromisoformat(installed[:10])
    if isinstance(installed, datetime):
        installed = installed.date()
    if isinstance(installed, date):
        return to_ms(datetime.combine(installed, time(0), tzinfo=TURIN))
    return 0
