"""Times: RFC 3339 and Unix seconds to and from epoch nanoseconds, and device-time plausibility.

The one place where the project parses and formats device times. What it
accepts is exactly what schemas/native-payload.schema.json accepts for
`time` (tests/test_times.py checks both verdicts on generated strings):

- an RFC 3339 `date-time` (RFC 3339 section 5.6): `YYYY-MM-DDTHH:MM:SS`, an
  optional fraction of 1 to 9 digits after a `.`, and `Z` or an offset
  `+HH:MM`/`-HH:MM`. `T` and `Z` may be lower case (RFC 3339 section 5.6,
  note). Nothing else of ISO 8601: no basic format (`20261201T194150Z`), no
  week or ordinal dates, no comma before the fraction, no missing offset, no
  space instead of `T`.
- Unix seconds, an integer or a float in [2000-01-01, 2100-01-01): earlier
  values are nearly always milliseconds or a clock that was never set.

Nanoseconds are kept: a fraction's 9 digits are read as an integer, never
through a float or a `datetime` (which stops at microseconds). Unix seconds
sent as a float carry no more than microseconds and are rounded to them.

Leap seconds: RFC 3339 allows second 60 where a leap second was inserted.
Accepted is `23:59:60` in UTC (`Z` or `+00:00`) on 30 June or 31 December,
the only days the IERS has ever used; any other second 60 is rejected as not
a leap second. Epoch nanoseconds, like InfluxDB and POSIX time, have no leap
seconds, so every instant of the leap second is mapped to the last
nanosecond of second 59 (`23:59:59.999999999`): it keeps its place before
the next day's midnight and never overwrites a point stored at `00:00:00`.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta, timezone

from iotorino.core.errors import Rejected

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_EPOCH_DAY = _EPOCH.toordinal()
# Unix seconds before this are certainly wrong (2000-01-01); protects against ms sent as s.
_MIN_UNIX_S = 946_684_800
_MAX_UNIX_S = 4_102_444_800  # 2100-01-01
UNIX_S_RANGE = (_MIN_UNIX_S, _MAX_UNIX_S)  # plausible Unix seconds: [2000-01-01, 2100-01-01)
_NS = 1_000_000_000

# RFC 3339 date-time (section 5.6), fraction limited to nanoseconds. ASCII digits only (`\d` would take "٣").
RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))")
_LEAP_DAYS = {"06-30", "12-31"}  # "MM-DD"
ACCEPTED = "RFC 3339 with an offset, e.g. 2026-11-21T10:00:00.000Z (fraction up to 9 digits), or Unix seconds"


def parse_time(value: object, field: str = "time") -> int:
    """Epoch nanoseconds of an RFC 3339 string or of Unix seconds (int or float); `Rejected('bad_time')` otherwise."""
    if isinstance(value, str):
        return _parse_rfc3339(value, field)
    if isinstance(value, int) and not isinstance(value, bool) or isinstance(value, float) and math.isfinite(value):
        if not _MIN_UNIX_S <= value < _MAX_UNIX_S:
            raise Rejected("bad_time", "Unix time outside 2000-2100 (milliseconds sent as seconds?)",
                           field=field, value=value, accepted="Unix seconds from 946684800 to 4102444800")
        return unix_ns(value)
    raise Rejected("bad_time", "timestamp must be a string or a number", field=field, value=value,
                   accepted=ACCEPTED)


# The beacon monitor and the BLE capture files call it by this name; it takes the same values.
parse_ns = parse_time


def _parse_rfc3339(text: str, field: str) -> int:
    """The collector's hot path: the pattern checks the form, `datetime.fromisoformat` (C) the values."""
    if RFC3339.fullmatch(text) is not None and (text[-1] in "Zz" or text[-2] < "6"):  # offset minutes 00-59
        try:
            moment = datetime.fromisoformat(text if text[10] == "T" and text[-1] != "z" else text.upper())
        except ValueError:
            pass  # an impossible date, hour or offset, or a leap second: the exact path says which
        else:
            delta = moment - _EPOCH
            time_ns = (delta.days * 86_400 + delta.seconds) * _NS + delta.microseconds * 1_000
            if len(text) > (27 if text[-1] in "Zz" else 32):  # more than 6 fraction digits (truncated above)
                time_ns += int(text[26:-1 if text[-1] in "Zz" else -6].ljust(3, "0"))
            return time_ns
    return _parse_exactly(text, field)


def _parse_exactly(text: str, field: str) -> int:
    """Epoch ns of `text` read field by field, or the `Rejected` that names its problem (and leap seconds)."""
    if RFC3339.fullmatch(text) is None:
        problem = ("timestamp without a time zone" if RFC3339.fullmatch(text + "Z") else
                   "not an RFC 3339 timestamp")
        raise Rejected("bad_time", problem, field=field, value=text, accepted=ACCEPTED)
    try:
        day_number = date(int(text[:4]), int(text[5:7]), int(text[8:10])).toordinal() - _EPOCH_DAY
    except ValueError:
        raise Rejected("bad_time", "no such calendar date", field=field, value=text, accepted=ACCEPTED) from None
    hour, minute, second = int(text[11:13]), int(text[14:16]), int(text[17:19])
    if text[-1] in "Zz":
        offset_s, zone_at = 0, -1
    else:
        off_h, off_m, zone_at = int(text[-5:-3]), int(text[-2:]), -6
        if off_h > 23 or off_m > 59:
            raise Rejected("bad_time", "offset out of range", field=field, value=text,
                           accepted="an offset from -23:59 to +23:59")
        offset_s = (off_h * 3600 + off_m * 60) * (1 if text[-6] == "+" else -1)
    if hour > 23 or minute > 59 or second > 60:
        raise Rejected("bad_time", "hour, minute or second out of range", field=field, value=text,
                       accepted="hours 00-23, minutes 00-59, seconds 00-59 (60 for a leap second)")
    utc_s = day_number * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offset_s
    if second == 60:
        if (hour, minute, offset_s) != (23, 59, 0) or text[5:10] not in _LEAP_DAYS:
            raise Rejected("bad_time", "second 60 that is not a leap second", field=field, value=text,
                           accepted="23:59:60Z on 30 June or 31 December, else seconds 00-59")
        return utc_s * _NS + _NS - 1  # the last nanosecond of 23:59:59 (module docstring)
    if text[19] != ".":
        return utc_s * _NS
    return utc_s * _NS + int(text[20:zone_at].ljust(9, "0"))


def unix_ns(seconds: float) -> int:
    """Epoch nanoseconds of Unix seconds: exact for an int, rounded to the microsecond for a float."""
    if type(seconds) is int:
        return seconds * _NS
    return int(round(seconds * 1_000_000)) * 1_000


def datetime_ns(moment: datetime) -> int:
    """Epoch nanoseconds of an aware datetime, exactly (no float on the way); `ValueError` for a naive one."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a naive datetime has no instant: {moment!r}")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * _NS + delta.microseconds * 1_000


def check_window(time_ns: int, now_ns: int, max_future_s: float, max_past_s: float) -> None:
    """Reject a device time too far ahead of or behind `now_ns`."""
    if time_ns > now_ns + int(max_future_s * 1e9):
        raise Rejected("time_in_future", f"device time more than {max_future_s:g} s ahead of the collector clock",
                       field="time", value=format_ns(time_ns),
                       accepted=f"up to {format_ns(now_ns + int(max_future_s * 1e9))}")
    if time_ns < now_ns - int(max_past_s * 1e9):
        raise Rejected("time_too_old", f"device time more than {max_past_s / 86400:g} days in the past",
                       field="time", value=format_ns(time_ns),
                       accepted=f"from {format_ns(now_ns - int(max_past_s * 1e9))}")


def format_ns(time_ns: int) -> str:
    """`time_ns` (UTC epoch nanoseconds) as RFC 3339 with a `Z`: milliseconds, or 6 or 9 digits where they matter.

    `parse_time(format_ns(t)) == t` for every t from year 1 to 9999.
    """
    seconds, rest = divmod(time_ns, _NS)
    t = _EPOCH + timedelta(seconds=seconds)
    stamp = f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    if rest % 1_000_000 == 0:
        return f"{stamp}.{rest // 1_000_000:03d}Z"
    if rest % 1_000 == 0:
        return f"{stamp}.{rest // 1_000:06d}Z"
    return f"{stamp}.{rest:09d}Z"
