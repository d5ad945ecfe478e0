"""Test data for the exports: street readings written through the real store, and independent recomputation."""

from __future__ import annotations

import math
import statistics
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from iotorino.core.reading import Reading

ROME = ZoneInfo("Europe/Rome")
NS = 1_000_000_000


def ns(moment: datetime) -> int:
    """Aware datetime → epoch nanoseconds."""
    return int(moment.timestamp()) * NS


def air_quality_readings(unit: str, district: str, start: datetime, minutes: int, step_min: int = 10, seed: int = 0) -> list[Reading]:
    """Deterministic air_quality readings every `step_min` minutes for `minutes` minutes from `start`."""
    out = []
    for i in range(0, minutes, step_min):
        k = i // step_min + seed
        out.append(
            Reading(
                "air_quality",
                {"unit": unit, "district": district},
                {"pm1": 3.0 + k % 5, "pm25": 10.0 + (k * 7) % 13, "pm10": 20.0 + (k * 3) % 17,
                 "no2": 30.5 + k % 11, "o3": 40.0 + (k * 5) % 7, "co": 0.25 * (k % 4)},
                ns(start) + i * 60 * NS,
            )
        )
    return out


def expected_hourly(readings: list[Reading], field: str, energetic: bool = False) -> dict[tuple[str, int], tuple[float, float, float, int]]:
    """(unit, hour start ns) → (mean, min, max, count) of `field`, computed in plain Python.

    With `energetic` (sound levels) the mean is 10·lg of the mean of 10^(L/10).
    """
    groups: dict[tuple[str, int], list[float]] = {}
    hour = 3600 * NS
    for r in readings:
        if field in r.fields:
            groups.setdefault((r.tags["unit"], r.time_ns - r.time_ns % hour), []).append(float(r.fields[field]))

    def mean(values: list[float]) -> float:
        if energetic:
            return 10 * math.log10(statistics.fmean(math.pow(10, v / 10) for v in values))
        return statistics.fmean(values)

    return {k: (mean(v), min(v), max(v), len(v)) for k, v in groups.items()}


def utc(*args: int) -> datetime:
    """A UTC datetime."""
    return datetime(*args, tzinfo=timezone.utc)


def load_dag(dag_id: str):
    """The DAG as Airflow parses it from dags/ (asserting every DAG file imports cleanly)."""
    from airflow.dag_processing.dagbag import DagBag

    from iotorino.core import paths

    bag = DagBag(dag_folder=str(paths.DAGS))
    assert bag.import_errors == {}
    return bag.get_dag(dag_id)
