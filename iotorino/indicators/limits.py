"""The rules as data: `schemas/air_quality_limits.yaml`, validated by its JSON schema and loaded once.

Everything the indicators compare against (limit values, allowed exceedances,
thresholds, validity shares, EAQI bands, noise periods) comes from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from iotorino.core import paths
from iotorino.core.errors import ConfigError

LIMITS_FILE = "air_quality_limits.yaml"
SCHEMA_FILE = "air_quality_limits.schema.json"
HOURS_IN_YEAR = 8760  # the percentiles of hourly limits are set for a 365-day year
DAYS_IN_YEAR = 365


@dataclass(frozen=True)
class Limit:
    """A limit value: `pollutant` averaged over `averaging` (hour/day/year) must not exceed `value`
    more than `allowed` times a calendar year (None: the statistic itself is compared)."""

    regime: str
    id: str
    pollutant: str
    averaging: str
    value: float
    unit: str
    allowed: int | None
    percentile: float | None
    citation: str
    source: str


@dataclass(frozen=True)
class Threshold:
    """An information or alert threshold: `consecutive` periods of `averaging` above `value`."""

    regime: str
    id: str
    kind: str
    pollutant: str
    averaging: str
    value: float
    unit: str
    consecutive: int
    citation: str
    source: str


@dataclass(frozen=True)
class Regime:
    """One directive's set of limits and thresholds, governing the years `applies_from`..`applies_until`."""

    id: str
    title_it: str
    title_en: str
    url: str
    applies_from: int
    applies_until: int | None
    limits: tuple[Limit, ...]
    thresholds: tuple[Threshold, ...]

    def applies_to(self, year: int) -> bool:
        """Whether the regime governs calendar year `year`."""
        return self.applies_from <= year and (self.applies_until is None or year <= self.applies_until)


@dataclass(frozen=True)
class Validity:
    """How much data an aggregate needs (shares 0-1)."""

    hour_min_share: float
    day_min_share: float
    day_min_hours: int
    year_min_share: float
    citation: str


@dataclass(frozen=True)
class Band:
    """One EAQI band: `level` 1 (good) .. 6 (extremely poor), names and colour."""

    level: int
    name_it: str
    name_en: str
    colour: str


@dataclass(frozen=True)
class Eaqi:
    """The European Air Quality Index: its `version`, bands and each pollutant's upper band edges."""

    version: str
    url: str
    bands: tuple[Band, ...]
    upper: Mapping[str, tuple[float, ...]]


@dataclass(frozen=True)
class Period:
    """A noise period in local hours [start_hour, end_hour); an end at or before the start runs past midnight."""

    name: str
    start_hour: int
    end_hour: int
    nominal_hours: int
    penalty_db: float = 0.0


@dataclass(frozen=True)
class NoiseRules:
    """The D.Lgs. 194/2005 day-evening-night periods and the DPCM 14/11/1997 day and night."""

    time_zone: str
    min_share: float
    den: tuple[Period, ...]
    dpcm: tuple[Period, ...]
    den_citation: str
    dpcm_citation: str


@dataclass(frozen=True)
class Rules:
    """Everything in the data file."""

    regimes: tuple[Regime, ...]
    validity: Validity
    eaqi: Eaqi
    noise: NoiseRules

    def regime(self, regime_id: str) -> Regime:
        """The regime `regime_id`; `ConfigError` listing the known ones otherwise."""
        for r in self.regimes:
            if r.id == regime_id:
                return r
        raise ConfigError("regime", f"unknown regime {regime_id!r}", ", ".join(r.id for r in self.regimes))


def load(path: Path | None = None) -> Rules:
    """Read and validate the rules file (default `schemas/air_quality_limits.yaml`)."""
    import jsonschema

    path = path or paths.SCHEMAS / LIMITS_FILE
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    schema = json.loads((paths.SCHEMAS / SCHEMA_FILE).read_text(encoding="utf-8"))
    try:
        jsonschema.validate(raw, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise ConfigError(where, f"{path}: {exc.message}", f"see {SCHEMA_FILE}") from None
    return _rules(raw, path)


def _rules(raw: Mapping[str, Any], path: Path) -> Rules:
    regimes = []
    for r in raw["regimes"]:
        limits = tuple(Limit(regime=r["id"], **{k: v for k, v in item.items()}) for item in r["limits"])
        thresholds = tuple(Threshold(regime=r["id"], **item) for item in r["thresholds"])
        for group in (limits, thresholds):
            ids = [x.id for x in group]
            if len(ids) != len(set(ids)):
                raise ConfigError(f"regimes/{r['id']}", f"{path}: duplicate ids in {ids}", "unique ids per regime")
        regimes.append(Regime(r["id"], r["title_it"], r["title_en"], r["url"], r["applies_from"], r["applies_until"],
                              limits, thresholds))
    e = raw["eaqi"]
    bands = tuple(Band(**b) for b in e["bands"])
    for pollutant, edges in e["upper"].items():
        if list(edges) != sorted(set(edges)) or len(edges) != len(bands) - 1:
            raise ConfigError(f"eaqi/upper/{pollutant}", f"{path}: edges {edges} must rise strictly",
                              f"{len(bands) - 1} increasing numbers, one per band boundary")
    n = raw["noise"]
    den = tuple(Period(name, p["from"], p["to"], p["hours"], p["penalty_db"]) for name, p in n["den_periods"].items())
    dpcm = tuple(Period(name, p["from"], p["to"], _span(p["from"], p["to"])) for name, p in n["dpcm_periods"].items())
    for p in den:
        if _span(p.start_hour, p.end_hour) != p.nominal_hours:
            raise ConfigError(f"noise/den_periods/{p.name}", f"{path}: {p.start_hour}-{p.end_hour} is not {p.nominal_hours} h",
                              "hours equal to the span from..to")
    return Rules(
        tuple(regimes),
        Validity(**raw["validity"]),
        Eaqi(e["version"], e["url"], bands, {k: tuple(float(x) for x in v) for k, v in e["upper"].items()}),
        NoiseRules(n["time_zone"], n["min_share"], den, dpcm, n["den_citation"], n["dpcm_citation"]),
    )


def _span(start: int, end: int) -> int:
    return (end - start) % 24 or 24


@lru_cache(maxsize=1)
def default() -> Rules:
    """The project's rules, loaded once."""
    return load()
