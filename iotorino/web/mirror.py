"""The open-data portal as static files: `iotorino opendata build --out DIR`.

Every page the app serves for the portal — home and sections in Italian and
(under en/) English, each dataset's page and change log, the city pages (every
street unit, district and school comparison) and the school pages they link to,
their JSON twins —
is rendered by the app itself (called in-process, no server), and written
where a static web server finds it: `/dati` → `dati/index.html`,
`/dati.json` → `dati.json`. Data files, manifests, change logs, dictionaries,
the DCAT catalogue and the static assets are written at their URLs, so the
mirror and the app answer the same addresses. Data files are hard-linked from
the export directory when it is on the same file system (else copied).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from iotorino.export import periods, registry
from iotorino.web import i18n
from iotorino.web.app import HERE, create_app
from iotorino.web.routes import ROUTES
from iotorino.web.settings import WebSettings

SECTION_PAGES = ("/", "/dati", "/scuole", "/citta", "/allerte")  # a static /allerte says the live board is off
SIDE_FILES = ("manifest.json", "changelog.jsonl", "dictionary.csv", "dcat.jsonld")


def page_paths(settings: WebSettings) -> list[str]:
    """Every page path (unprefixed) the mirror holds."""
    paths = list(SECTION_PAGES)
    for name in registry():
        paths += [f"/dati/{name}", f"/dati/{name}/modifiche"]
    return paths + city_paths(settings.inventory())


def city_paths(inventory) -> list[str]:
    """The city pages below /citta (units, districts, schools' comparisons) and the school pages they link to."""
    units = sorted(inventory.street_units)
    districts = sorted({u.district for u in inventory.street_units.values()})
    schools = sorted(inventory.schools)
    return (["/citta/circoscrizioni", "/citta/scuole"]
            + [f"/citta/circoscrizioni/{n}" for n in districts]
            + [f"/citta/scuole/{s}" for s in schools]
            + [f"/citta/unita/{u}" for u in units]
            + [f"/scuole/{s}" for s in schools] + [f"/scuole/{s}/alunni" for s in schools])


def target_of(url_path: str) -> str:
    """Where a URL path lives in the mirror: a page path gets `index.html` inside its folder."""
    stripped = url_path.strip("/")
    if "." in stripped.rsplit("/", 1)[-1]:
        return stripped
    return f"{stripped}/index.html" if stripped else "index.html"


def build(settings: WebSettings, out: Path, link: bool = True) -> list[Path]:
    """Write the mirror into `out`; return the files written."""
    out = Path(out)
    app = create_app(settings)
    urls = []
    for path in page_paths(settings):
        twin = ("/index" if path == "/" else path) + ".json"
        for lang in i18n.LANGUAGES:  # each page and its twin where the page's language links it
            urls += [i18n.localized(lang, path), i18n.localized(lang, twin)]
    urls += [r.path for r in ROUTES if r.path.startswith("/dati/catalogo.")]
    written = [_write(out / target_of(url), body) for url, body in asyncio.run(_fetch_all(app, urls))]
    for name in registry():
        folder = settings.exports_dir / name
        for side in SIDE_FILES:
            if (folder / side).is_file():
                written.append(_place(folder / side, out / "dati" / name / side, link=False))
        for period, files in periods(settings.exports_dir, name):
            for fmt, source in files.items():
                written.append(_place(source, out / "dati" / name / f"{period.text}.{fmt}", link))
    static = HERE / "static"
    for source in sorted(static.rglob("*")):
        if source.is_file():
            written.append(_place(source, out / "static" / source.relative_to(static), link=False))
    return written


async def _fetch_all(app, urls: list[str]) -> list[tuple[str, bytes]]:
    return [(url, await _get(app, url)) for url in urls]


async def _get(app, path: str) -> bytes:
    """GET `path` from the ASGI `app` in-process; the body, or `RuntimeError` if it is not a 200."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"mirror")], "client": ("127.0.0.1", 0), "server": ("mirror", 80),
    }
    status, chunks = 0, []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    if status != 200:
        raise RuntimeError(f"mirror: GET {path} answered {status}")
    return b"".join(chunks)


def _write(target: Path, body: bytes) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(body)
    os.replace(tmp, target)
    return target


def _place(source: Path, target: Path, link: bool) -> Path:
    """Hard-link (or copy) `source` to `target`, replacing what was there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        if not link:
            raise OSError("copy requested")
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    return target
