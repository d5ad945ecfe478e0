"""Sensor faults the simulator can inject (`--fault-rate`), and what the collector should do with each.

With fault rate p every message independently becomes faulty with
probability p, its kind drawn uniformly from `KINDS`:

- `stuck`: the sensor repeats the field values of its last healthy message
  with a new timestamp. Valid data: the collector stores it (flat-line detection
  is a later, downstream check).
- `out_of_range`: one field carries a spike outside the catalogue's
  plausible range (above its maximum). The collector must store the other
  fields and put the spiked value into the dead letters with reason
  `out_of_range` (field-level quarantine).
- `missing`: the device fails to send; nothing is published. The simulator
  still yields the message (empty payload) so it can be counted.
- `malformed`: the JSON payload is cut off part-way (invalid JSON). The
  collector must reject it into the dead letters as undecodable.
"""

from __future__ import annotations

import random

from iotorino.core.catalogue import MeasurementSpec

STUCK = "stuck"
OUT_OF_RANGE = "out_of_range"
MISSING = "missing"
MALFORMED = "malformed"
KINDS = (STUCK, OUT_OF_RANGE, MISSING, MALFORMED)
# Faults that end in the dead letters (one letter each); the others arrive as valid data or not at all.
REJECTED_KINDS = (OUT_OF_RANGE, MALFORMED)


def draw(rng: random.Random, rate: float) -> str | None:
    """The fault for the next message: None (healthy) or one of `KINDS`."""
    if rate <= 0 or rng.random() >= rate:
        return None
    return rng.choice(KINDS)


def spike(fields: dict[str, float], spec: MeasurementSpec, rng: random.Random) -> dict[str, float]:
    """`fields` with one of them pushed above the catalogue's plausible maximum."""
    name = rng.choice(sorted(fields))
    field = spec.fields[name]
    spiked = dict(fields)
    spiked[name] = round(field.high + (field.high - field.low) * rng.uniform(0.1, 1.0), 1)
    return spiked


def truncate(payload: bytes, rng: random.Random) -> bytes:
    """`payload` cut off somewhere inside its JSON object, so that it no longer parses."""
    return payload[: rng.randrange(1, len(payload) - 1)]
