"""The one data type that flows through every stage: a frozen `Reading`.

A reading is one InfluxDB point: measurement, tags, fields and a time in
nanoseconds since the Unix epoch (UTC). Decoders produce readings, validation
checks them, writers and the spool store them; nothing past a collector sees
a paho or bleak object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Union

FieldValue = Union[float, int, bool, str]


@dataclass(frozen=True, slots=True)
class Reading:
    """One point: `measurement`, `tags`, `fields`, `time_ns` (UTC epoch nanoseconds)."""

    measurement: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldValue]
    time_ns: int
    # True when the device sent no time and the receive time stands in for it.
    time_is_fallback: bool = field(default=False, compare=False)
