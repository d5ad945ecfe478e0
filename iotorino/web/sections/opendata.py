"""`/dati`: the open-data portal — every dataset, its page, its files, its change log, the DCAT catalogue.

Reads only what the exports published (through `iotorino.export`'s public
functions) and the inventory; writes nothing. Files are streamed with
`ETag` (the manifest's SHA-256), `Last-Modified` (when it was exported) and
byte ranges, so Parquet readers can fetch just the parts they need.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from iotorino.core.errors import Rejected
from iotorino.export import (
    MEDIA_TYPES, catalogue_graph, catalogue_jsonld, catalogue_turtle, days, file_path, parse_period, periods,
    portal_texts, read_changelog, read_manifest, registry, relative_path,
)
from iotorino.web.pages import BadRequest, NotFound, Page
from iotorino.web.sections import sites

LICENCE = {
    "uri": "https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40",
    "name": "CC BY 4.0",
    "legal_code": "https://creativecommons.org/licenses/by/4.0/legalcode",
}
# Files published beside the data, by the name they have in the URL: (file in the dataset folder, media type).
SIDE_FILES = {
    "manifest.json": ("manifest.json", "application/json"),
    "changelog.jsonl": ("changelog.jsonl", "application/x-ndjson"),
    "dictionary.csv": ("dictionary.csv", "text/csv; charset=utf-8"),
    "dcat.jsonld": ("dcat.jsonld", "application/ld+json"),
}
DATA_FILE = re.compile(r"(?P<period>[0-9]{4}(?:-[0-9]{2}){0,2})\.(?P<fmt>[a-z]+)")
RECENT_CHANGES = 10


def index(request: Request) -> Page:
    """Every registered dataset with its titles, theme, period covered and last change."""
    out_dir = _out(request)
    texts = portal_texts()
    listed = []
    for dataset in registry().values():
        text = texts.dataset(dataset)
        published = days(out_dir, dataset.name)
        manifest = read_manifest(out_dir, dataset.name)
        listed.append({
            "id": dataset.name, "title": dict(text.title), "description": dict(text.description), "theme": dataset.theme,
            "frequency": text.frequency, "first_day": published[0] if published else None,
            "last_day": published[-1] if published else None, "days": len(published), "modified": manifest.get("modified"),
            "url": f"/dati/{dataset.name}",
        })
    return Page("dati/index.html", {
        "datasets": listed, "licence": LICENCE, "attribution": dict(texts.attribution),
        "catalogue": {"turtle": "/dati/catalogo.ttl", "jsonld": "/dati/catalogo.jsonld"},
    }, "dati.title")


def dataset(request: Request) -> Page:
    """One dataset: texts, licence, coverage, columns, quality notes, files, recent changes, reading examples."""
    ds = _dataset(request)
    out_dir, base = _out(request), request.app.state.settings.base_url
    text = portal_texts().dataset(ds)
    manifest = read_manifest(out_dir, ds.name)
    files = _files(out_dir, ds.name, manifest)
    places = sites.by_coverage(request.app.state.settings.inventory())[text.coverage]
    published = days(out_dir, ds.name)
    day_rows = [(f["period"], f["rows"]) for f in files if f["kind"] == "day" and f["format"] == "parquet"]
    example = next((f for f in files if f["format"] == "parquet"), None)
    data = {
        "id": ds.name, "title": dict(text.title), "description": dict(text.description), "theme": ds.theme,
        "keywords": list(ds.keywords), "frequency": text.frequency,
        "licence": LICENCE, "attribution": dict(portal_texts().attribution),
        "temporal": {"first_day": published[0] if published else None, "last_day": published[-1] if published else None,
                     "days": len(published), "time_zone": "Europe/Rome"},
        "spatial": {"coverage": text.coverage, "places": len(places), "bbox": sites.bbox(places)},
        "columns": _columns(out_dir, ds.name),
        "quality": {lang: list(notes) for lang, notes in text.quality.items()},
        "modified": manifest.get("modified"),
        "files": files,
        "rows_per_day": {"days": [d for d, _ in sorted(day_rows)], "rows": [r for _, r in sorted(day_rows)]},
        "changes": read_changelog(out_dir, ds.name, RECENT_CHANGES),
        "provenance": {"manifest": f"/dati/{ds.name}/manifest.json", "changelog": f"/dati/{ds.name}/changelog.jsonl",
                       "changes_page": f"/dati/{ds.name}/modifiche", "dictionary": f"/dati/{ds.name}/dictionary.csv"},
        "examples": _examples(base, ds.name, example),
        "map": sites.geojson(places),
    }
    return Page("dati/dataset.html", data, "dati.dataset_title", {"title": text.title[request.state.lang]})


def changes(request: Request) -> Page:
    """A dataset's change log, newest first; `?since=<RFC 3339 time>` keeps the changes after a download."""
    ds = _dataset(request)
    text = portal_texts().dataset(ds)
    entries = read_changelog(_out(request), ds.name)
    since = request.query_params.get("since")
    if since:
        try:
            moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError(since)
        except ValueError:
            raise BadRequest("dati.bad_since", value=since, accepted="2026-11-21T08:00:00Z") from None
        entries = [e for e in entries if datetime.fromisoformat(e["time"].replace("Z", "+00:00")) > moment]
    data = {"id": ds.name, "title": dict(text.title), "since": since, "changes": entries}
    return Page("dati/changes.html", data, "dati.changes_title", {"title": text.title[request.state.lang]})


def download(request: Request) -> Response:
    """A data file (`<period>.<format>`) or a file published beside the data (manifest, change log, dictionary)."""
    ds = _dataset(request)
    out_dir = _out(request)
    name = request.path_params["filename"]
    if name in SIDE_FILES:
        file_name, media_type = SIDE_FILES[name]
        return _send(request, out_dir, out_dir / ds.name / file_name, media_type, None, name)
    match = DATA_FILE.fullmatch(name)
    if not match:
        raise NotFound("dati.unknown_file", dataset=ds.name, file=name, accepted="YYYY-MM-DD|YYYY-MM|YYYY + .parquet|.csv, manifest.json, changelog.jsonl, dictionary.csv")
    if match["fmt"] not in MEDIA_TYPES:
        raise NotFound("dati.unknown_format", format=match["fmt"], accepted=", ".join(MEDIA_TYPES))
    try:
        period = parse_period(match["period"])
    except Rejected:
        raise NotFound("dati.unknown_date", dataset=ds.name, date=match["period"], range=_range(out_dir, ds.name)) from None
    path = file_path(out_dir, ds.name, period, match["fmt"])
    entry = read_manifest_cached(out_dir, ds.name).get("files", {}).get(relative_path(ds.name, period, match["fmt"]))
    if not path.is_file():
        raise NotFound("dati.no_file", dataset=ds.name, date=period.text, format=match["fmt"], range=_range(out_dir, ds.name))
    return _send(request, out_dir, path, MEDIA_TYPES[match["fmt"]], entry, f"{ds.name}_{period.text}.{match['fmt']}")


def catalogue_ttl(request: Request) -> Response:
    """The DCAT-AP_IT catalogue in Turtle."""
    return Response(_catalogue(request)[0], media_type="text/turtle; charset=utf-8")


def catalogue_json_ld(request: Request) -> Response:
    """The DCAT-AP_IT catalogue in JSON-LD."""
    return Response(_catalogue(request)[1], media_type="application/ld+json")


def _catalogue(request: Request) -> tuple[str, str]:
    settings = request.app.state.settings
    stamp = tuple((settings.exports_dir / name / "manifest.json").stat().st_mtime_ns
                  if (settings.exports_dir / name / "manifest.json").is_file() else 0 for name in registry())
    return _catalogue_text(settings.exports_dir, settings.base_url, stamp, _extents(settings))


def _extents(settings) -> tuple:
    places = sites.by_coverage(settings.inventory())
    return tuple((kind, sites.bbox(p)) for kind, p in places.items() if p)


@lru_cache(maxsize=4)
def _catalogue_text(out_dir: Path, base_url: str, stamp: tuple, extents: tuple) -> tuple[str, str]:
    graph = catalogue_graph(out_dir, base_url, dict(extents))
    return catalogue_turtle(graph), catalogue_jsonld(graph)


def read_manifest_cached(out_dir: Path, name: str) -> dict:
    """The manifest, re-read only when its file changed."""
    path = out_dir / name / "manifest.json"
    stamp = path.stat().st_mtime_ns if path.is_file() else 0
    return _manifest(out_dir, name, stamp)


@lru_cache(maxsize=64)
def _manifest(out_dir: Path, name: str, stamp: int) -> dict:
    return read_manifest(out_dir, name)


def _send(request: Request, out_dir: Path, path: Path, media_type: str, entry: dict | None, download_name: str) -> Response:
    """Stream `path` (ranges honoured); 304 when the client's ETag still matches."""
    resolved = path.resolve()
    if not resolved.is_relative_to(out_dir.resolve()) or not resolved.is_file():
        raise NotFound("dati.no_such_file", file=download_name)
    headers = {"cache-control": "public, max-age=300", "content-disposition": f'inline; filename="{download_name}"'}
    if entry:
        headers["etag"] = f'"{entry["sha256"]}"'
        exported = datetime.fromisoformat(entry["exported"].replace("Z", "+00:00"))
        headers["last-modified"] = format_datetime(exported, usegmt=True)
    response = FileResponse(resolved, media_type=media_type, headers=headers)
    if "etag" in headers and headers["etag"] in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers={k: v for k, v in headers.items() if k != "content-disposition"})
    return response


def _dataset(request: Request):
    name = request.path_params["dataset"]
    known = registry()
    if name not in known:
        raise NotFound("dati.unknown_dataset", dataset=name, accepted=", ".join(known))
    return known[name]


def _out(request: Request) -> Path:
    return request.app.state.settings.exports_dir


def _range(out_dir: Path, name: str) -> str:
    published = days(out_dir, name)
    return f"{published[0]} – {published[-1]}" if published else "–"


def _files(out_dir: Path, name: str, manifest: dict) -> list[dict[str, Any]]:
    """Every published file: kind, period, format, URL, and rows/bytes/sha256/exported from the manifest."""
    out = []
    for period, by_format in periods(out_dir, name):
        for fmt, path in sorted(by_format.items()):
            entry = manifest["files"].get(relative_path(name, period, fmt)) or {}
            out.append({
                "kind": period.kind, "period": period.text, "format": fmt, "url": f"/dati/{name}/{period.text}.{fmt}",
                "rows": entry.get("rows"), "bytes": entry.get("bytes", path.stat().st_size), "sha256": entry.get("sha256"),
                "exported": entry.get("exported"),
            })
    return out


def _columns(out_dir: Path, name: str) -> list[dict[str, str]]:
    """The data dictionary written beside the data: column, type, unit, description_it, description_en.

    A dictionary written before the Italian descriptions (one `description` column) shows it in both languages.
    """
    path = out_dir / name / "dictionary.csv"
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if "description" in row:
            text = row.pop("description")
            row.setdefault("description_it", text)
            row.setdefault("description_en", text)
    return rows


def _examples(base: str, name: str, example: dict | None) -> dict[str, str]:
    """Reading the dataset with pandas, DuckDB and R, on a real file of it."""
    if example is None:
        return {}
    url = f"{base}{example['url']}"
    return {
        "pandas": f'import pandas as pd\n\ndf = pd.read_parquet("{url}")\nprint(df.head())',
        "duckdb": f"INSTALL httpfs; LOAD httpfs;\nSELECT * FROM read_parquet('{url}') LIMIT 10;",
        "r": f'library(arrow)\n\ndf <- read_parquet("{url}")\nhead(df)',
    }
