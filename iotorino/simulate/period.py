"""The simulated period: parse `--start`, `--duration`, `--speed`, and format device timestamps.

Start times without an offset are local Turin time (Europe/Rome, with its
daylight-saving rules); a trailing `Z` or `+HH:MM` makes them absolute.
Inside the simulator every instant is an integer of UTC milliseconds since
the Unix epoch, so ordering and arithmetic are exact.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from iotorino.core.errors import ConfigError

TURIN = ZoneInfo("Europe/Rome")

_DURATION_PART = re.compile(r"(\d+)([dhms])")
_SECONDS_PER_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_start(text: str, key: str = "--start") -> datetime:
    """An aware datetime from ISO 8601 `text`; naive times are taken as Europe/Rome local time."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(key, f"{text!r} is not a date-time", "ISO 8601, e.g. 2026-11-20T00:00 (Turin time) or 2026-11-20T00:00Z") from None
    return value if value.tzinfo else value.replace(tzinfo=TURIN)


def parse_duration(text: str, key: str = "--duration") -> int:
    """Seconds in a duration such as `1d`, `6h`, `90m`, `1d12h`, `30s`."""
    compact = text.strip().lower()
    parts = _DURATION_PART.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ConfigError(key, f"{text!r} is not a duration", "numbers with d, h, m or s, e.g. 1d, 6h, 1d12h")
    seconds = sum(int(n) * _SECONDS_PER_UNIT[u] for n, u in parts)
    if seconds <= 0:
        raise ConfigError(key, f"{text!r} is empty", "a positive duration")
    return seconds


def parse_speed(text: str, key: str = "--speed") -> float | None:
    """Simulated seconds per wall-clock second; `None` for `max` (publish as fast as possible)."""
    if text.strip().lower() == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        speed = 0.0
    if not speed > 0:
        raise ConfigError(key, f"{text!r} is not a speed", "a positive number (1440 = one day per minute) or 'max'")
    return speed


def to_ms(moment: datetime) -> int:
    """UTC milliseconds since the epoch of an aware datetime."""
    return int(round(moment.timestamp() * 1000))


def from_ms(ms: int) -> datetime:
    """The aware UTC datetime of `ms` milliseconds since the epoch."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def local(ms: int) -> datetime:
    """The Turin local time of `ms`: what the daily patterns (rush hours, lessons) follow."""
    return datetime.fromtimestamp(ms / 1000, tz=TURIN)
