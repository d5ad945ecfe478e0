"""The school calendar: Piedmont's school-year file, national holidays, the summer and weekends."""

from __future__ import annotations

from datetime import date

import pytest

from iotorino.core.errors import ConfigError
from iotorino.core import school_calendar as cal


@pytest.fixture(scope="module")
def turin():
    return cal.load()


@pytest.mark.parametrize("day, kind, name_it", [
    (date(2025, 9, 9), cal.HOLIDAY, "Vacanze estive"),      # the day before lessons start
    (date(2025, 9, 10), cal.SCHOOL, ""),                     # first day of lessons (Wednesday)
    (date(2025, 11, 1), cal.HOLIDAY, "Ognissanti"),          # national holiday on a Saturday
    (date(2025, 12, 8), cal.HOLIDAY, "Immacolata Concezione"),
    (date(2025, 12, 22), cal.HOLIDAY, "Vacanze di Natale"),
    (date(2026, 1, 7), cal.SCHOOL, ""),
    (date(2026, 2, 16), cal.HOLIDAY, "Vacanze di Carnevale"),
    (date(2026, 4, 6), cal.HOLIDAY, "Lunedì dell'Angelo"),   # Easter Monday: national first
    (date(2026, 4, 7), cal.HOLIDAY, "Vacanze di Pasqua"),
    (date(2026, 4, 8), cal.SCHOOL, ""),
    (date(2026, 3, 7), cal.WEEKEND, ""),                     # a Saturday in term
    (date(2026, 3, 8), cal.WEEKEND, ""),
    (date(2026, 6, 10), cal.SCHOOL, ""),                     # last day of lessons
    (date(2026, 6, 11), cal.HOLIDAY, "Vacanze estive"),
    (date(2026, 6, 24), cal.HOLIDAY, "San Giovanni Battista"),  # Turin's patron saint
])
def test_days_of_2025_2026(turin, day, kind, name_it):
    got = turin.day(day)
    assert (got.kind, got.name_it) == (kind, name_it)
    assert got.calendar_known


def test_infanzia_stays_open_until_the_end_of_june(turin):
    assert turin.day(date(2026, 6, 15), "primaria").kind == cal.HOLIDAY
    assert turin.day(date(2026, 6, 15), "infanzia").kind == cal.SCHOOL
    assert turin.day(date(2026, 7, 1), "infanzia").kind == cal.HOLIDAY


def test_a_year_without_a_file_says_so(turin):
    day = turin.day(date(2027, 3, 3))
    assert day.kind == cal.SCHOOL and not day.calendar_known
    assert turin.day(date(2027, 4, 25)).kind == cal.HOLIDAY  # national holidays are always known


def test_every_shipped_file_names_its_source(turin):
    assert turin.years, "no school-year file found in data/school-calendars"
    for year in turin.years:
        assert year.source_url.startswith("https://") and year.source_title


def _valid_document():
    return {"school_year": "2025-2026", "region": "Piemonte",
            "source": {"title": "t", "url": "https://example.org"},
            "first_day": date(2025, 9, 10), "last_day": date(2026, 6, 10),
            "breaks": [{"name_it": "a", "name_en": "a", "first": date(2025, 12, 22), "last": date(2026, 1, 6)}]}


@pytest.mark.parametrize("change, key", [
    (lambda d: d.pop("source"), "(top level)"),
    (lambda d: d.update(first_day="10/09/2025"), "first_day"),
    (lambda d: d.update(school_year="2025-2027"), "school_year"),
    (lambda d: d["breaks"][0].update(first=date(2026, 1, 7)), "breaks"),
    (lambda d: d["breaks"][0].update(last=date(2026, 8, 1)), "breaks"),
    (lambda d: d.update(extra=1), "(top level)"),
])
def test_a_broken_calendar_names_file_and_key(change, key):
    document = _valid_document()
    cal.parse_year(document, "ok.yaml")
    change(document)
    with pytest.raises(ConfigError) as err:
        cal.parse_year(document, "broken.yaml")
    assert "broken.yaml" in err.value.key and key in err.value.key
