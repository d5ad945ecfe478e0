"""One table for every benchmark: figure, baseline measured in the same run, ratio, target, met or not.

A `Figure` compares a measured `value` with a `baseline` taken in the same run
(the bare tool, the raw read, the old path) and with the issue's `target`;
`lower_is_better` says which way the target points. The table's header names
the machine (cores, memory, load) and the date, since figures from a busy
machine are not figures from a quiet one.
"""

from __future__ import annotations

import os
import platform
import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable, Sequence


@dataclass(frozen=True)
class Figure:
    """One measured figure and what it is compared with."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    target: float | None = None
    lower_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """value ÷ baseline (None without a baseline)."""
        if self.baseline in (None, 0):
            return None
        return self.value / self.baseline

    @property
    def met(self) -> bool | None:
        """Whether the target is met (None without a target)."""
        if self.target is None:
            return None
        return self.value <= self.target if self.lower_is_better else self.value >= self.target


def median(values: Sequence[float]) -> float:
    """The median (the figure every benchmark reports over its repeats)."""
    return statistics.median(values)


def percentile(ordered: Sequence[float], q: float) -> float:
    """The `q` quantile (0-1) of already sorted values, nearest rank."""
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def machine() -> str:
    """Cores, memory, load and Python: the conditions every figure was measured under."""
    cores = os.cpu_count() or 0
    try:
        with open("/proc/meminfo") as fh:
            mem_kb = int(fh.readline().split()[1])
        memory = f"{mem_kb / 1024 / 1024:.1f} GB"
    except (OSError, ValueError, IndexError):
        memory = "? GB"
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{cores} cores, {memory} memory, load {load}, Python {platform.python_version()}, {platform.machine()}"


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "-"
    text = f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}" if abs(x) >= 1 else f"{x:.3g}"
    return f"{text} {unit}".strip()


def table(figures: Iterable[Figure], started: datetime) -> str:
    """The report: a header with date and machine, then one line per figure, then the notes."""
    figures = list(figures)
    head = ("figure", "value", "baseline (same run)", "ratio", "target", "met")
    rows = []
    for f in figures:
        target = None if f.target is None else ("<= " if f.lower_is_better else ">= ") + _fmt(f.target, f.unit)
        base = "-" if f.baseline is None else f"{_fmt(f.baseline, f.unit)} {f.baseline_name}".strip()
        rows.append((f.name, _fmt(f.value, f.unit), base, _fmt(f.ratio), target or "-",
                     {True: "yes", False: "NO", None: "-"}[f.met]))
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    out = [f"IoTorino benchmarks, {started:%Y-%m-%d %H:%M} UTC, {machine()}", "", line(head),
           line(["-" * w for w in widths]), *map(line, rows)]
    notes = [f"- {f.name}: {f.note}" for f in figures if f.note]
    return "\n".join(out + ([""] + notes if notes else []))


def now() -> datetime:
    """The run's start time (UTC)."""
    return datetime.now(timezone.utc)
