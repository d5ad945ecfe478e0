"""Times: RFC 3339 and Unix seconds to and from epoch nanoseconds, and device-time plausibility."""

from __future__ import annotations

import math
from datetime import datetime, timezone

from iotorino.core.errors import Rejected

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Unix seconds before this are certainly wrong (2000-01-01); protects against ms sent as s.
_MIN_UNIX_S = 946_684_800
_MAX_UNIX_S = 4_102_444_800  # 2100-01-01
UNIX_S_RANGE = (_MIN_UNIX_S, _MAX_UNIX_S)  # plausible Unix seconds: [2000-01-01, 2100-01-01)


def parse_time(value: object, field: str = "time") -> int:
    """Epoch nanoseconds from an RFC 3339 string with a zone, or Unix seconds (int or float)."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise Rejected("bad_time", "not an RFC 3339 timestamp", field=field, value=value,
                           accepted="e.g. 2026-11-21T10:00:00.000Z or Unix seconds") from None
        if parsed.tzinfo is None:
            raise Rejected("bad_time", "timestamp without a time zone", field=field, value=value,
                           accepted="an explicit offset, e.g. Z or +01:00")
        delta = parsed - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    if isinstance(value, int) and not isinstance(value, bool) or isinstance(value, float) and math.isfinite(value):
        if not _MIN_UNIX_S <= value < _MAX_UNIX_S:
            raise Rejected("bad_time", "Unix time outside 2000-2100 (milliseconds sent as seconds?)",
                           field=field, value=value, accepted="Unix seconds")
        return unix_ns(value)
    raise Rejected("bad_time", "timestamp must be a string or a number", field=field, value=value,
                   accepted="RFC 3339 string or Unix seconds")


def unix_ns(seconds: float) -> int:
    """Epoch nanoseconds of Unix seconds, rounded to the microsecond (a float's seconds carry no more)."""
    return int(round(seconds * 1_000_000)) * 1_000


def check_window(time_ns: int, now_ns: int, max_future_s: float, max_past_s: float) -> None:
    """Reject a device time too far ahead of or behind `now_ns`."""
    if time_ns > now_ns + int(max_future_s * 1e9):
        raise Rejected("time_in_future", f"device time more than {max_future_s:g} s ahead of the collector clock",
                       field="time", value=_iso(time_ns), accepted=f"up to {_iso(now_ns + int(max_future_s * 1e9))}")
    if time_ns < now_ns - int(max_past_s * 1e9):
        raise Rejected("time_too_old", f"device time more than {max_past_s / 86400:g} days in the past",
                       field="time", value=_iso(time_ns), accepted=f"from {_iso(now_ns - int(max_past_s * 1e9))}")


def _iso(time_ns: int) -> str:
    return datetime.fromtimestamp(time_ns / 1e9, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def format_ns(time_ns: int) -> str:
    """`time_ns` (UTC epoch nanoseconds) as RFC 3339 with milliseconds and a `Z`."""
    seconds, rest = divmod(time_ns, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{rest // 1_000_000:03d}Z"


def parse_ns(text: str, field: str = "time") -> int:
    """Epoch nanoseconds of an RFC 3339 time with an explicit offset; `Rejected` otherwise."""
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise Rejected("bad_time", "not an RFC 3339 time with offset", field=field, value=text,
                       accepted="e.g. 2026-11-21T10:00:00.000Z")
    whole = parsed.replace(microsecond=0)
    return int(whole.timestamp()) * 1_000_000_000 + parsed.microsecond * 1000
