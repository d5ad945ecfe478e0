"""Local days as UTC windows: 23, 24 and 25 hours; labels that tell the doubled hour apart."""

from __future__ import annotations

from datetime import date

import pytest

from iotorino.core.errors import ConfigError
from iotorino.export.aggregate import completeness
from iotorino.export.window import local_day, local_label, parse_day


@pytest.mark.parametrize(
    "day, hours, start_utc",
    [
        (date(2026, 3, 29), 23, "2026-03-28T23:00:00+00:00"),
        (date(2026, 10, 25), 25, "2026-10-24T22:00:00+00:00"),
        (date(2026, 7, 1), 24, "2026-06-30T22:00:00+00:00"),
    ],
)
def test_local_day_bounds(day, hours, start_utc):
    window = local_day(day)
    assert window.hours == hours == len(window.hour_starts_ns())
    assert window.start.isoformat() == start_utc


def test_october_labels_show_both_two_oclocks():
    labels = [local_label(t) for t in local_day(date(2026, 10, 25)).hour_starts_ns()]
    assert labels[1:4] == ["2026-10-25T01:00:00+02:00", "2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]


def test_completeness_is_capped_and_unknown_without_interval():
    assert completeness(6, 600) == 1.0
    assert completeness(9, 600) == 1.0
    assert completeness(3, 600) == 0.5
    assert completeness(3, None) is None


def test_bad_day_names_value_and_format():
    with pytest.raises(ConfigError, match=r"'2026-02-30' is not a calendar date.*YYYY-MM-DD"):
        parse_day("2026-02-30")
