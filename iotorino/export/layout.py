"""Where each published file of a dataset lives, and which periods exist: days, months, years.

The tree under the export directory (one folder per dataset):

    <dataset>/data/date=YYYY-MM-DD/part-0.parquet   a local day (the unit of export)
    <dataset>/csv/<dataset>_YYYY-MM-DD.csv          its CSV copy (small days only)
    <dataset>/monthly/<dataset>_YYYY-MM.parquet      a month, built from its days (+ .csv)
    <dataset>/yearly/<dataset>_YYYY.parquet          a year, built from its months (+ .csv)
    <dataset>/manifest.json, changelog.jsonl        provenance (iotorino.export.provenance)

A period is named by its text: `2026-11-21` (day), `2026-11` (month), `2026` (year).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from iotorino.core.errors import Rejected

DAY, MONTH, YEAR = "day", "month", "year"
# Published formats and their media types (Parquet's is registered with IANA since 2024).
MEDIA_TYPES = {"parquet": "application/vnd.apache.parquet", "csv": "text/csv; charset=utf-8"}
_PERIOD = re.compile(r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?")


@dataclass(frozen=True, order=True)
class Period:
    """A published period: `kind` (day, month or year), its `text`, and its first and last local days."""

    first: date
    last: date
    kind: str
    text: str

    def contains(self, day: date) -> bool:
        """Whether local day `day` falls in this period."""
        return self.first <= day <= self.last


def parse_period(text: str) -> Period:
    """'YYYY-MM-DD', 'YYYY-MM' or 'YYYY' → `Period`; `Rejected('bad_period')` naming the value otherwise."""
    match = _PERIOD.fullmatch(text or "")
    try:
        if not match:
            raise ValueError(text)
        year = int(match["y"])
        if match["d"]:
            day = date(year, int(match["m"]), int(match["d"]))
            return Period(day, day, DAY, day.isoformat())
        if match["m"]:
            first = date(year, int(match["m"]), 1)
            return Period(first, _next_month(first) - timedelta(days=1), MONTH, first.isoformat()[:7])
        return Period(date(year, 1, 1), date(year, 12, 31), YEAR, f"{year:04d}")
    except ValueError:
        raise Rejected(
            "bad_period", "not a day, month or year", field="period", value=text,
            accepted="YYYY-MM-DD, YYYY-MM or YYYY, e.g. 2026-11-21, 2026-11, 2026",
        ) from None


def month_of(day: date) -> Period:
    """The month holding `day`."""
    return parse_period(day.isoformat()[:7])


def year_of(day: date) -> Period:
    """The year holding `day`."""
    return parse_period(f"{day.year:04d}")


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def relative_path(dataset: str, period: Period, fmt: str) -> str:
    """The file's path relative to the export directory (POSIX separators)."""
    if fmt not in MEDIA_TYPES:
        raise Rejected("bad_format", "unknown file format", field="format", value=fmt, accepted=", ".join(MEDIA_TYPES))
    if period.kind == DAY:
        if fmt == "parquet":
            return f"{dataset}/data/date={period.text}/part-0.parquet"
        return f"{dataset}/csv/{dataset}_{period.text}.csv"
    folder = "monthly" if period.kind == MONTH else "yearly"
    return f"{dataset}/{folder}/{dataset}_{period.text}.{fmt}"


def file_path(out_dir: Path, dataset: str, period: Period, fmt: str) -> Path:
    """Absolute path of the dataset's file for `period` in format `fmt` (it may not exist)."""
    return Path(out_dir) / relative_path(dataset, period, fmt)


def days(out_dir: Path, dataset: str) -> list[date]:
    """The local days with a Parquet partition, in order."""
    found = []
    for part in (Path(out_dir) / dataset / "data").glob("date=*/part-0.parquet"):
        try:
            found.append(date.fromisoformat(part.parent.name.removeprefix("date=")))
        except ValueError:
            continue  # not one of ours: ignored, never served
    return sorted(found)


def periods(out_dir: Path, dataset: str) -> list[tuple[Period, dict[str, Path]]]:
    """Every period with at least one published file: (period, {format: path}), years then months then days, newest first."""
    out_dir = Path(out_dir)
    candidates: set[Period] = set()
    for day in days(out_dir, dataset):
        candidates |= {parse_period(day.isoformat()), month_of(day), year_of(day)}
    listed = []
    for period in candidates:
        files = {fmt: file_path(out_dir, dataset, period, fmt) for fmt in MEDIA_TYPES}
        files = {fmt: p for fmt, p in files.items() if p.is_file()}
        if files:
            listed.append((period, files))
    rank = {YEAR: 0, MONTH: 1, DAY: 2}
    return sorted(listed, key=lambda item: (rank[item[0].kind], -item[0].first.toordinal()))
