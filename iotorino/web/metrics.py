"""`/metrics`, `/healthz` and `/readyz` of the web application, and the exports' freshness for Prometheus.

The web application publishes what the exports wrote, so it is the natural
place to say how fresh that is. On every scrape it reads each dataset's
`manifest.json` under the export directory (again only when the file changed)
and exposes, per dataset:

- `iotorino_export_last_partition_timestamp_seconds{dataset}`: the end of the
  newest published day, i.e. the local midnight (Europe/Rome) after it, as
  Unix seconds. Day D is exported just after it ends, so this is normally
  0-25 hours old; the `IotorinoExportsLate` rule fires past 30 hours.
- `iotorino_export_last_modified_timestamp_seconds{dataset}`: when the
  dataset's data last changed (the manifest's `modified`).

Datasets without any daily partition yet (and monthly-only ones) have no series.
`/healthz` answers 200 while the process serves; `/readyz` 200 when the export
directory is readable and, with a store, InfluxDB answers a query as the web
user; otherwise 503 naming the part that is not ready (never an internal error).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from iotorino.export import parse_period, read_manifest

log = logging.getLogger(__name__)
ROME = ZoneInfo("Europe/Rome")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Freshness:
    """What one dataset's manifest says about its freshness (Unix seconds; None when unknown)."""

    last_partition_end: float | None
    last_modified: float | None


def day_end(day: date) -> float:
    """The local midnight (Europe/Rome) after `day`, as Unix seconds (a DST day lasts 23 or 25 hours)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ROME).timestamp()


def freshness(manifest: dict) -> Freshness:
    """The newest published day's end and the last change, from a dataset's manifest."""
    days = []
    for entry in manifest.get("files", {}).values():
        period = parse_period(str(entry.get("period", "")))
        if period.kind == "day" and entry.get("format") == "parquet":
            days.append(period.first)
    modified = manifest.get("modified")
    return Freshness(day_end(max(days)) if days else None,
                     datetime.fromisoformat(modified.replace("Z", "+00:00")).timestamp() if modified else None)


class ExportFreshness:
    """A Prometheus collector reading the manifests under `exports_dir` at each scrape (cached by mtime)."""

    def __init__(self, exports_dir: Path) -> None:
        self.exports_dir = Path(exports_dir)
        self._cache: dict[str, tuple[int, Freshness]] = {}

    def datasets(self) -> dict[str, Freshness]:
        """Each dataset with a manifest, and its freshness."""
        found = {}
        for manifest in sorted(self.exports_dir.glob(f"*/{MANIFEST}")):
            name = manifest.parent.name
            try:
                stamp = manifest.stat().st_mtime_ns
                cached = self._cache.get(name)
                if cached is None or cached[0] != stamp:
                    cached = (stamp, freshness(read_manifest(self.exports_dir, name)))
                    self._cache[name] = cached
            except (OSError, ValueError, json.JSONDecodeError) as error:
                # A manifest being replaced or damaged: this scrape skips it, the next one retries.
                log.warning("cannot read %s: %s", manifest, type(error).__name__)
                continue
            found[name] = cached[1]
        return found

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The two gauges, one series per dataset that has a value."""
        partition = GaugeMetricFamily("iotorino_export_last_partition_timestamp_seconds",
                                      "End (local midnight after it, Unix s) of the newest published day",
                                      labels=["dataset"])
        modified = GaugeMetricFamily("iotorino_export_last_modified_timestamp_seconds",
                                     "When the dataset's data last changed (manifest 'modified', Unix s)",
                                     labels=["dataset"])
        for name, fresh in self.datasets().items():
            if fresh.last_partition_end is not None:
                partition.add_metric([name], fresh.last_partition_end)
            if fresh.last_modified is not None:
                modified.add_metric([name], fresh.last_modified)
        yield partition
        yield modified


def routes(settings) -> list[Route]:
    """GET /metrics, /healthz and /readyz for the app built from `settings` (a `WebSettings`)."""
    registry = CollectorRegistry()
    registry.register(ExportFreshness(settings.exports_dir))

    def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    def healthz(request: Request) -> Response:
        return JSONResponse({"alive": True})

    def readyz(request: Request) -> Response:
        not_ready = {}
        if not Path(settings.exports_dir).is_dir():
            not_ready["exports"] = "la cartella degli export non è leggibile / the export directory is not readable"
        if settings.store is not None:
            try:
                settings.store.query("SHOW MEASUREMENTS LIMIT 1")
            except Exception as error:  # noqa: BLE001 - any failure means not ready; logged, never shown
                log.warning("readiness: InfluxDB query failed: %s", type(error).__name__)
                not_ready["store"] = "InfluxDB non risponde / InfluxDB does not answer"
        return JSONResponse({"ready": not not_ready, "not_ready": not_ready}, status_code=503 if not_ready else 200)

    # Plain (sync) endpoints run in the thread pool: reading manifests never blocks the event loop.
    return [Route("/metrics", metrics, methods=["GET", "HEAD"], name="metrics"),
            Route("/healthz", healthz, methods=["GET", "HEAD"], name="healthz"),
            Route("/readyz", readyz, methods=["GET", "HEAD"], name="readyz")]
