"""The school calendar: which local day is a school day, a weekend or a holiday, and why.

Two sources, each kept where it is best maintained:

- national holidays and Turin's patron saint (San Giovanni, 24 June) from the
  `holidays` package (Italy, subdivision TO);
- Piedmont's school-year calendar (first and last day of lessons, Christmas,
  carnival and Easter breaks, bridges) as one data file per school year in
  `data/school-calendars/`, validated against `schemas/school_calendar.schema.json`
  and naming its source.

A day outside every school-year file is still classified (weekends and national
holidays are known), but `SchoolDay.calendar_known` is False so that analyses
can say their day types rest on national holidays only. Pure once loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

from iotorino.core import paths
from iotorino.core.errors import ConfigError

CALENDARS = paths.ROOT / "data" / "school-calendars"
SCHEMA = paths.SCHEMAS / "school_calendar.schema.json"

SCHOOL = "school"
WEEKEND = "weekend"
HOLIDAY = "holiday"


@dataclass(frozen=True, slots=True)
class Break:
    """A regional break: both ends included."""

    name_it: str
    name_en: str
    first: date
    last: date


@dataclass(frozen=True, slots=True)
class SchoolYear:
    """One region's school year: term dates, breaks and the source they come from."""

    name: str
    region: str
    source_title: str
    source_url: str
    first_day: date
    last_day: date
    last_day_infanzia: date
    breaks: tuple[Break, ...]


@dataclass(frozen=True, slots=True)
class SchoolDay:
    """What one local day is for a school: `school`, `weekend` or `holiday`, with the holiday's names."""

    kind: str
    name_it: str = ""
    name_en: str = ""
    calendar_known: bool = True


class SchoolCalendar:
    """Classifies local dates for a school of a given level (infanzia ends later in June)."""

    def __init__(self, years: list[SchoolYear], national_it, national_en) -> None:
        """`national_it`/`_en`: mappings of date to holiday name that fill themselves in per year
        (`holidays` objects in Italian and English)."""
        self.years = sorted(years, key=lambda y: y.first_day)
        self._national_it = national_it
        self._national_en = national_en

    def year_of(self, day: date) -> SchoolYear | None:
        """The school year whose September-to-August span holds `day`, if a file covers it."""
        start_year = day.year if day.month >= 9 else day.year - 1
        for year in self.years:
            if year.first_day.year == start_year:
                return year
        return None

    def day(self, day: date, level: str = "primaria") -> SchoolDay:
        """Classify `day` (a local date) for a school of `level`."""
        national = self._national_it.get(day)
        if national:
            return SchoolDay(HOLIDAY, str(national), str(self._national_en.get(day)))
        year = self.year_of(day)
        if day.weekday() == 6:
            return SchoolDay(WEEKEND, calendar_known=year is not None)
        if year is None:
            kind = WEEKEND if day.weekday() == 5 else SCHOOL
            return SchoolDay(kind, calendar_known=False)
        last = year.last_day_infanzia if level == "infanzia" else year.last_day
        if day < year.first_day or day > last:
            return SchoolDay(HOLIDAY, "Vacanze estive", "Summer holidays")
        for pause in year.breaks:
            if pause.first <= day <= pause.last:
                return SchoolDay(HOLIDAY, pause.name_it, pause.name_en)
        if day.weekday() == 5:
            return SchoolDay(WEEKEND)
        return SchoolDay(SCHOOL)


def national_holidays(language: str):
    """Italy's public holidays with Turin's patron saint, filled in for any year asked (`it_IT` or `en_US`)."""
    import holidays

    return holidays.country_holidays("IT", subdiv="TO", language=language)


def parse_year(document: dict, origin: str) -> SchoolYear:
    """Validate one calendar document (as loaded from YAML) and build its `SchoolYear`."""
    plain = json.loads(json.dumps(document, default=str))  # YAML dates -> ISO strings for the schema
    validator = jsonschema.Draft202012Validator(
        json.loads(SCHEMA.read_text()), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(plain), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        raise ConfigError(f"{origin}: {where}", err.message, "see schemas/school_calendar.schema.json")
    day = date.fromisoformat
    breaks = tuple(Break(b["name_it"], b["name_en"], day(b["first"]), day(b["last"])) for b in plain["breaks"])
    year = SchoolYear(plain["school_year"], plain["region"], plain["source"]["title"], plain["source"]["url"],
                      day(plain["first_day"]), day(plain["last_day"]),
                      day(plain.get("last_day_infanzia", plain["last_day"])), breaks)
    _check_consistent(year, origin)
    return year


def _check_consistent(year: SchoolYear, origin: str) -> None:
    first, second = (int(part) for part in year.name.split("-"))
    if second != first + 1 or year.first_day.year != first or year.last_day.year != second:
        raise ConfigError(f"{origin}: school_year", f"{year.name!r} does not match first_day {year.first_day} "
                          f"and last_day {year.last_day}", "first_day in the first year, last_day in the second")
    if not year.first_day < year.last_day <= year.last_day_infanzia:
        raise ConfigError(f"{origin}: last_day", f"{year.last_day} is not after first_day {year.first_day} "
                          f"and on or before last_day_infanzia {year.last_day_infanzia}")
    for pause in year.breaks:
        if not year.first_day <= pause.first <= pause.last <= year.last_day_infanzia:
            raise ConfigError(f"{origin}: breaks", f"{pause.name_en} {pause.first}..{pause.last} is not "
                              f"inside the school year", f"{year.first_day}..{year.last_day_infanzia}, first <= last")


def load(directory: Path = CALENDARS) -> SchoolCalendar:
    """Every school-year file of `directory`, with the national holidays of the years around them."""
    years = [parse_year(yaml.safe_load(p.read_text(encoding="utf-8")), p.name)
             for p in sorted(directory.glob("*.yaml"))]
    return SchoolCalendar(years, national_holidays("it_IT"), national_holidays("en_US"))


@lru_cache(maxsize=1)
def default() -> SchoolCalendar:
    """The project's calendars (data/school-calendars/), loaded once."""
    return load()


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Per weekday (0 = Monday) the local opening and closing minute of the day, or None when closed."""

    days: tuple[tuple[int, int] | None, ...]

    @classmethod
    def parse(cls, spec) -> "OpeningHours":
        """From `{"mon": ["08:00", "16:30"], ..., "sat": null}` or the inventory's `School.opening_hours`
        (pairs as tuples); missing days are closed."""
        names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        days = []
        for name in names:
            span = spec.get(name)
            if not span:
                days.append(None)
                continue
            opens, closes = (int(t[:2]) * 60 + int(t[3:5]) for t in span)
            days.append((opens, closes))
        return cls(tuple(days))

    def opens_at(self, weekday: int) -> int | None:
        """The local minute the school opens on `weekday` (0 = Monday), None when closed."""
        span = self.days[weekday]
        return None if span is None else span[0]

    def is_open(self, weekday: int, minute_of_day: int) -> bool:
        """Whether the school is open at that local minute of that weekday."""
        span = self.days[weekday]
        return span is not None and span[0] <= minute_of_day < span[1]
