"""InfluxDB line protocol: encode readings as the body of a write request.

The encoding follows the InfluxDB 1.x/2.x/3.x line protocol: tags sorted by
key, integers with an `i` suffix, strings double-quoted, nanosecond timestamps.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Mapping

from iotorino.core.reading import FieldValue, Reading

_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n"})
_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n"})


def encode(reading: Reading) -> str:
    """One line of line protocol for `reading` (no trailing newline)."""
    head = _series_head(reading.measurement, tuple(reading.tags.items()))
    fields = ",".join([f"{escape_key(k)}={field_value(v)}" for k, v in reading.fields.items()])
    return f"{head} {fields} {reading.time_ns}"


def series_head(measurement: str, tags: Mapping[str, str]) -> str:
    """The escaped `measurement,tag=value,...` start of a line (tags sorted, empty values left out)."""
    return _series_head(measurement, tuple(tags.items()))


# A collector encodes the same few thousand series over and over: cache the escaped parts (bounded).
@lru_cache(maxsize=65_536)
def _series_head(measurement: str, tags: tuple[tuple[str, str], ...]) -> str:
    head = measurement.translate(_MEASUREMENT_ESCAPES)
    return head + "".join(f",{k.translate(_KEY_ESCAPES)}={v.translate(_KEY_ESCAPES)}"
                          for k, v in sorted(tags) if v != "")


@lru_cache(maxsize=4096)
def escape_key(key: str) -> str:
    """A tag or field key (or tag value) escaped for line protocol."""
    return key.translate(_KEY_ESCAPES)


def encode_batch(readings: Iterable[Reading]) -> bytes:
    """Newline-separated line protocol for `readings`, as the body of a write request."""
    return ("\n".join(encode(r) for r in readings)).encode("utf-8")


def field_value(value: FieldValue) -> str:
    """A field value in line protocol: floats as `repr`, integers with `i`, booleans, quoted strings."""
    if type(value) is float:  # the common case first
        return repr(value)
    # bool before int: bool is a subclass of int.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
