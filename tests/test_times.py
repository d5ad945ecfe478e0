"""Device timestamps: parsing and the plausibility window."""

import pytest

from iotorino.core.times import check_window, parse_time
from iotorino.core.errors import Rejected

T = 1_763_719_200_000_000_000  # 2025-11-21T10:00:00Z


@pytest.mark.parametrize("value", ["2025-11-21T10:00:00Z", "2025-11-21T11:00:00+01:00", "2025-11-21T10:00:00.000Z",
                                   1_763_719_200, 1_763_719_200.0])
def test_same_instant_in_every_accepted_form(value):
    assert parse_time(value) == T


def test_milliseconds_are_kept():
    assert parse_time("2025-11-21T10:00:00.123Z") == T + 123_000_000
    assert parse_time(1_763_719_200.123) == T + 123_000_000


@pytest.mark.parametrize("value, words", [
    ("2025-11-21 10:00", "without a time zone"), ("yesterday", "not an RFC 3339"),
    (1_763_719_200_000, "milliseconds sent as seconds"), (True, "string or a number"), (None, "string or a number"),
])
def test_bad_times_rejected_with_the_value(value, words):
    with pytest.raises(Rejected, match=words) as caught:
        parse_time(value)
    assert caught.value.field == "time" and caught.value.value == value


def test_window():
    check_window(T, T, 600, 86400)
    with pytest.raises(Rejected) as ahead:
        check_window(T + 601 * 10**9, T, 600, 86400)
    assert ahead.value.reason == "time_in_future" and "2025-11-21T10:10:01.000Z" in str(ahead.value)
    with pytest.raises(Rejected) as old:
        check_window(T - 86401 * 10**9, T, 600, 86400)
    assert old.value.reason == "time_too_old"
