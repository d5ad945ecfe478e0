"""Provenance of a published dataset: a manifest of its files and a change log of its days.

`<dataset>/manifest.json` lists every published file (path relative to the
export directory) with its period, format, rows, bytes, SHA-256, the time it was
exported and the project version that wrote it; `modified` is when the data
last changed. `<dataset>/changelog.jsonl` gets one line each time a day is
published for the first time or re-exported with different content: when, the
trigger (who ran it), and what changed (rows added, removed and revised, by key,
and each changed column's mean before and after).

A re-export that writes the same bytes changes neither file. Writers of one
dataset take a lock on `<dataset>/.provenance.lock`, so the daily export and the
roll-ups can run side by side.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import pyarrow as pa
import pyarrow.parquet as pq

from iotorino.export import layout

MANIFEST = "manifest.json"
CHANGELOG = "changelog.jsonl"
TIME_KEY = "date_observed_from"
MAX_LISTED_HOURS = 25  # an entry lists at most one DST day's worth of changed hours


def project_version() -> str:
    """The installed iotorino version (the code that wrote a file)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("iotorino")
    except PackageNotFoundError:
        return "unknown"


def utc_now() -> str:
    """The current time as RFC 3339 UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(out_dir: Path, dataset: str) -> dict:
    """The dataset's manifest, or an empty one (`files` {}, `modified` None) before its first export."""
    path = Path(out_dir) / dataset / MANIFEST
    if not path.is_file():
        return {"dataset": dataset, "modified": None, "files": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def read_changelog(out_dir: Path, dataset: str, limit: int | None = None) -> list[dict]:
    """The change log, newest entry first (at most `limit` entries)."""
    path = Path(out_dir) / dataset / CHANGELOG
    if not path.is_file():
        return []
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    entries.reverse()
    return entries[:limit] if limit is not None else entries


def read_day(out_dir: Path, dataset: str, day: date) -> pa.Table | None:
    """The day's published table before it is replaced (None when it has none)."""
    path = layout.file_path(out_dir, dataset, layout.parse_period(day.isoformat()), "parquet")
    return pq.read_table(path) if path.is_file() else None


@contextmanager
def locked(out_dir: Path, dataset: str) -> Iterator[dict]:
    """Hold the dataset's provenance lock; yields the manifest and writes it back (atomically) if it changed."""
    folder = Path(out_dir) / dataset
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".provenance.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        manifest = read_manifest(out_dir, dataset)
        before = json.dumps(manifest, sort_keys=True)
        yield manifest
        if json.dumps(manifest, sort_keys=True) != before:
            _atomic_write(folder / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def file_entry(out_dir: Path, path: Path, period: str, fmt: str, rows: int, now: str, **extra: str) -> dict:
    """A manifest entry for `path` (relative key, size and checksum read from the file)."""
    return {
        "period": period, "format": fmt, "rows": rows, "bytes": path.stat().st_size, "sha256": sha256_of(path),
        "exported": now, "version": project_version(), **extra,
    }


def update_file(manifest: dict, out_dir: Path, path: Path, entry: dict) -> bool:
    """Put `entry` for `path` into `manifest` unless the same bytes are already listed; True if it changed."""
    key = Path(path).relative_to(out_dir).as_posix()
    old = manifest["files"].get(key)
    if old and old["sha256"] == entry["sha256"] and old.get("sources") == entry.get("sources"):
        return False
    manifest["files"][key] = entry
    return True


def record_day(
    out_dir: Path,
    dataset: str,
    day: date,
    before: pa.Table | None,
    after: pa.Table,
    files: Mapping[str, Path | None],
    trigger: str,
) -> dict | None:
    """Record a day just written (`files`: format → path, None where no copy was written).

    Updates the manifest entries of files whose bytes changed and, if the
    Parquet file changed, appends a change-log entry comparing `before` (the
    day's previous table, None at first publication) with `after`. A CSV copy
    that is no longer written (the day grew past the CSV limit) is removed with
    its entry. Returns the change-log entry, or None when nothing changed.
    """
    out_dir = Path(out_dir)
    period = day.isoformat()
    now = utc_now()
    with locked(out_dir, dataset) as manifest:
        changed = {}
        for fmt, path in files.items():
            stale = layout.file_path(out_dir, dataset, layout.parse_period(period), fmt)
            if path is None:
                key = stale.relative_to(out_dir).as_posix()
                if manifest["files"].pop(key, None) is not None or stale.exists():
                    stale.unlink(missing_ok=True)
                continue
            changed[fmt] = update_file(manifest, out_dir, path, file_entry(out_dir, path, period, fmt, after.num_rows, now))
        if not changed.get("parquet"):
            return None
        entry = {"time": now, "date": period, "trigger": trigger, **summarise_change(before, after)}
        manifest["modified"] = now
        with open(out_dir / dataset / CHANGELOG, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        return entry


def summarise_change(before: pa.Table | None, after: pa.Table) -> dict:
    """What changed in a day: rows before/after, rows added/removed/revised by key, and per changed column
    how many values changed with their mean before and after.

    The key is the day's id columns (`*_id`) and the hour start when present;
    without a key, rows are compared by position.
    """
    if before is None:  # a first publication: every row is new (no need to key them)
        return {"kind": "published", "rows_before": 0, "rows_after": after.num_rows, "added": after.num_rows, "removed": 0, "revised": 0}
    summary: dict = {"kind": "revised", "rows_before": before.num_rows, "rows_after": after.num_rows}
    old, new = _by_key(before), _by_key(after)
    added = [k for k in new if k not in old]
    removed = [k for k in old if k not in new]
    revised = [k for k in new if k in old and new[k] != old[k]]
    summary.update(added=len(added), removed=len(removed), revised=len(revised))
    summary["columns"] = _column_changes(old, new, after.column_names)
    labels = sorted({_label(new.get(k) or old.get(k)) for k in added + removed + revised} - {None})
    summary["hours"] = labels[:MAX_LISTED_HOURS]
    return summary


def key_columns(schema: pa.Schema) -> list[str]:
    """The columns that identify a row within a day: string ids (`*_id`, `measurement`), then the hour start."""
    ids = [f.name for f in schema if (f.name.endswith("_id") or f.name == "measurement") and pa.types.is_string(f.type)]
    return ids + ([TIME_KEY] if TIME_KEY in schema.names else [])


def _by_key(table: pa.Table) -> dict[tuple, dict]:
    keys = key_columns(table.schema)
    rows = table.to_pylist()
    keyed = {tuple(row[k] for k in keys): row for row in rows} if keys else {}
    if len(keyed) != len(rows):  # no key, or not unique: compare by position
        return {(i,): row for i, row in enumerate(rows)}
    return keyed


def _label(row: dict | None) -> str | None:
    if not row:
        return None
    value = row.get("local_time_from") or row.get(TIME_KEY)
    return value.isoformat() if hasattr(value, "isoformat") else value


def _column_changes(old: dict, new: dict, columns: Sequence[str]) -> dict:
    """Per column with values that differ on matching keys: how many, and their mean before and after (numbers only)."""
    out = {}
    common = [k for k in new if k in old]
    for column in columns:
        differing = [k for k in common if old[k].get(column) != new[k].get(column)]
        if not differing:
            continue
        change: dict = {"changed": len(differing)}
        before = [old[k].get(column) for k in differing]
        after = [new[k].get(column) for k in differing]
        if any(_number(v) for v in before + after):
            change["mean_before"] = _mean([v for v in before if _number(v)])
            change["mean_after"] = _mean([v for v in after if _number(v)])
        out[column] = change
    return out


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not (isinstance(value, float) and math.isnan(value))


def _mean(values: list) -> float | None:
    return round(sum(values) / len(values), 6) if values else None


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
