"""Device timestamps: parsing, formatting, the plausibility window, and agreement with the payload schema."""

import json
from datetime import datetime, timezone

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, FormatChecker

from iotorino.core import paths
from iotorino.core.errors import Rejected
from iotorino.core.times import check_window, datetime_ns, format_ns, parse_ns, parse_time

T = 1_763_719_200_000_000_000  # 2025-11-21T10:00:00Z
# The end of 2016, when the last leap second so far was inserted (IERS Bulletin C 52).
LEAP_2016 = "2016-12-31T23:59:60Z"
END_OF_2016_NS = 1_483_228_800 * 10**9  # 2017-01-01T00:00:00Z

TIME_SCHEMA = json.loads((paths.SCHEMAS / "native-payload.schema.json").read_text())["properties"]["time"]
SCHEMA = Draft202012Validator(TIME_SCHEMA, format_checker=FormatChecker())


def module_accepts(value) -> bool:
    try:
        parse_time(value)
    except Rejected:
        return False
    return True


@pytest.mark.parametrize("value", ["2025-11-21T10:00:00Z", "2025-11-21T11:00:00+01:00", "2025-11-21T10:00:00.000Z",
                                   "2025-11-21t10:00:00z", "2025-11-21t11:00:00.0+01:00",
                                   1_763_719_200, 1_763_719_200.0])
def test_same_instant_in_every_accepted_form(value):
    assert parse_time(value) == T
    assert SCHEMA.is_valid(value)


def test_milliseconds_are_kept():
    assert parse_time("2025-11-21T10:00:00.123Z") == T + 123_000_000
    assert parse_time(1_763_719_200.123) == T + 123_000_000


def test_nanoseconds_are_kept():
    assert parse_time("2025-11-21T10:00:00.123456789Z") == T + 123_456_789
    assert parse_time("2025-11-21T10:00:00.000000001Z") == T + 1
    assert format_ns(T + 123_456_789) == "2025-11-21T10:00:00.123456789Z"


def test_leap_second_maps_to_the_last_nanosecond_before_midnight():
    assert parse_time(LEAP_2016) == END_OF_2016_NS - 1
    assert parse_time("2016-12-31T23:59:60.5+00:00") == END_OF_2016_NS - 1
    assert parse_time("2016-12-31T23:59:59Z") < parse_time(LEAP_2016) < parse_time("2017-01-01T00:00:00Z")
    assert SCHEMA.is_valid(LEAP_2016)


@pytest.mark.parametrize("value, words", [
    ("2025-11-21T10:00:00", "without a time zone"), ("2025-11-21 10:00", "not an RFC 3339"),
    ("yesterday", "not an RFC 3339"), ("20261201T194150Z", "not an RFC 3339"), ("2026-W48-2T10:00:00Z", "RFC 3339"),
    ("2026-335T10:00:00Z", "RFC 3339"), ("2026-12-01T19:41:50,5Z", "RFC 3339"),
    ("2026-12-01T19:41:50.1234567891Z", "RFC 3339"), ("2026-12-01T19:41:50Z\n", "RFC 3339"),
    ("2026-02-30T10:00:00Z", "no such calendar date"), ("2026-12-01T24:00:00Z", "out of range"),
    ("2026-12-01T10:00:00+24:00", "offset out of range"), ("2026-11-30T23:59:60Z", "not a leap second"),
    ("2016-12-31T23:59:60+01:00", "not a leap second"),
    (1_763_719_200_000, "milliseconds sent as seconds"), (True, "string or a number"), (None, "string or a number"),
])
def test_bad_times_rejected_with_the_value(value, words):
    with pytest.raises(Rejected, match=words) as caught:
        parse_time(value)
    assert caught.value.field == "time" and caught.value.value == value and caught.value.accepted
    assert not SCHEMA.is_valid(value)


@pytest.mark.parametrize("text, fraction_ns", [("2025-11-21T10:00:00.1234567Z", 123_456_700),
                                               ("2025-11-21T11:00:00.12345678+01:00", 123_456_780),
                                               ("2025-11-21T10:00:00.123456Z", 123_456_000)])
def test_digits_beyond_microseconds_are_kept_in_every_zone_form(text, fraction_ns):
    assert parse_time(text) == T + fraction_ns


def test_parse_ns_takes_unix_seconds_too():
    """The beacon monitor parses with `parse_ns`; a reading with Unix seconds must not make it raise."""
    assert parse_ns(1_763_719_200) == T
    assert parse_ns("2025-11-21T10:00:00Z", "since") == T


def test_window():
    check_window(T, T, 600, 86400)
    with pytest.raises(Rejected) as ahead:
        check_window(T + 601 * 10**9, T, 600, 86400)
    assert ahead.value.reason == "time_in_future" and "2025-11-21T10:10:01.000Z" in str(ahead.value)
    with pytest.raises(Rejected) as old:
        check_window(T - 86401 * 10**9, T, 600, 86400)
    assert old.value.reason == "time_too_old"


# -- properties ---------------------------------------------------------------------------------------------

NANOS_1_TO_9999 = st.integers(-62_135_596_800 * 10**9, 253_402_300_799 * 10**9 + 999_999_999)


@given(NANOS_1_TO_9999)
@example(0)
@example(T + 1)
def test_format_then_parse_is_the_identity(time_ns):
    assert parse_time(format_ns(time_ns)) == time_ns


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(timezone.utc)))
def test_agrees_with_python_on_microsecond_times(moment):
    text = moment.isoformat()  # "+00:00" offset, 0 or 6 fraction digits
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    assert parse_time(text) == (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(timezone.utc)))
def test_datetimes_and_their_rfc3339_agree(moment):
    assert datetime_ns(moment) == parse_time(moment.isoformat())


def test_a_naive_datetime_has_no_instant():
    with pytest.raises(ValueError):
        datetime_ns(datetime(2026, 11, 21, 10))


@given(st.integers(946_684_800, 4_102_444_799))
def test_unix_seconds_and_their_rfc3339_agree(seconds):
    assert parse_time(seconds) == parse_time(format_ns(seconds * 10**9)) == seconds * 10**9


def _piece(digits: int, values):
    return st.one_of(st.integers(*values).map(lambda n: f"{n:0{digits}d}"),
                     st.text("0123456789", min_size=digits - 1, max_size=digits + 1))


# Strings near RFC 3339: right and wrong digit counts, separators, fractions, offsets, leap seconds, junk.
NEAR_RFC3339 = st.builds(
    lambda y, mo, d, sep, h, mi, s, frac, zone, tail: f"{y}-{mo}-{d}{sep}{h}:{mi}:{s}{frac}{zone}{tail}",
    _piece(4, (0, 9999)), _piece(2, (0, 13)), _piece(2, (0, 32)), st.sampled_from(["T", "t", " ", "", "x"]),
    _piece(2, (0, 24)), _piece(2, (0, 60)), _piece(2, (58, 61)),
    st.one_of(st.just(""), st.text("0123456789", min_size=0, max_size=11).map(lambda f: "." + f),
              st.text("0123456789", min_size=1, max_size=3).map(lambda f: "," + f)),
    st.one_of(st.sampled_from(["Z", "z", "", "+00:00", "-00:00", "UTC", "+0100"]),
              st.builds(lambda sign, h, m: f"{sign}{h}:{m}", st.sampled_from("+-"), _piece(2, (0, 24)),
                        _piece(2, (0, 60)))),
    st.sampled_from(["", "", "", "\n", " ", "Z"]),
)
LEAP_CANDIDATES = st.builds(lambda y, md, frac, zone: f"{y:04d}-{md}T23:59:60{frac}{zone}",
                            st.integers(0, 9999), st.sampled_from(["06-30", "12-31", "12-30", "02-29"]),
                            st.sampled_from(["", ".5", ".999999999"]),
                            st.sampled_from(["Z", "z", "+00:00", "-00:00", "+01:00"]))


@settings(max_examples=800)
@given(st.one_of(NEAR_RFC3339, LEAP_CANDIDATES, st.text(max_size=40)))
@example("2026-12-01T19:41:50Z")
@example("20261201T194150Z")
@example("2026-W48-2")
@example("0000-12-31T23:59:60Z")
def test_schema_and_module_accept_the_same_strings(text):
    assert SCHEMA.is_valid(text) == module_accepts(text)


# NaN is no JSON value (RFC 8259 section 6), and JSON Schema's comparisons let it through; the module rejects it.
@given(st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=True), st.booleans(), st.none()))
def test_schema_and_module_accept_the_same_numbers(value):
    assert SCHEMA.is_valid(value) == module_accepts(value)
