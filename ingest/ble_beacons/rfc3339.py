"""RFC 3339 UTC timestamps with milliseconds (`2026-11-21T10:00:00.000Z`) to and from epoch nanoseconds."""

from __future__ import annotations

from datetime import datetime, timezone

from iotorino.errors import Rejected


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
