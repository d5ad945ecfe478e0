"""InfluxDB line protocol: encode readings as the body of a write request.

The encoding follows the InfluxDB 1.x/2.x/3.x line protocol: tags sorted by
key, integers with an `i` suffix, strings double-quoted, nanosecond timestamps.
"""

from __future__ import annotations

from typing import Iterable

from iotorino.reading import FieldValue, Reading

_KEY_ESCAPES = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n"})
_MEASUREMENT_ESCAPES = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n"})


def encode(reading: Reading) -> str:
    """One line of line protocol for `reading` (no trailing newline)."""
    head = reading.measurement.translate(_MEASUREMENT_ESCAPES)
    tags = reading.tags
    if tags:
        head += "".join(
            f",{k.translate(_KEY_ESCAPES)}={tags[k].translate(_KEY_ESCAPES)}"
            for k in sorted(tags)
            if tags[k] != ""
        )
    fields = ",".join(
        f"{k.translate(_KEY_ESCAPES)}={_field_value(v)}" for k, v in reading.fields.items()
    )
    return f"{head} {fields} {reading.time_ns}"


def encode_batch(readings: Iterable[Reading]) -> bytes:
    """Newline-separated line protocol for `readings`, as the body of a write request."""
    return ("\n".join(encode(r) for r in readings)).encode("utf-8")


def _field_value(value: FieldValue) -> str:
    # bool first: bool is a subclass of int.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
