"""The application factory: `create_app(settings)` wires routes, templates, static files and languages.

Nothing here reads the environment: everything comes from `WebSettings`.
No route writes anything; errors become a page or JSON in Italian and
English, never a stack trace.
"""

from __future__ import annotations

import json
import logging
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route as StarletteRoute
from starlette.staticfiles import StaticFiles

from iotorino.core.errors import ConfigError
from iotorino.web import assets, i18n, metrics, pages
from iotorino.web.alertboard import AlertBoard, AlertFeed
from iotorino.web.routes import PANELS, ROUTES
from iotorino.web.settings import WebSettings

log = logging.getLogger(__name__)
HERE = Path(__file__).parent


def create_app(settings: WebSettings) -> FastAPI:
    """The web application for `settings` (see `iotorino.web.settings`)."""
    missing = assets.missing()
    if missing:
        raise ConfigError("iotorino/web/static/vendor", f"browser libraries missing: {', '.join(missing)}",
                          "run scripts/setup.sh (npm ci in iotorino/web, then iotorino.web.assets.vendor())")
    app = FastAPI(title="IoTorino", docs_url=None, redoc_url=None, openapi_url=None, lifespan=_lifespan)
    app.state.settings = settings
    app.state.alert_board = AlertBoard(settings.alert_board, clock=settings.clock) if settings.mqtt is not None else None
    app.state.templates = _templates(settings)
    app.state.template_helpers = _helpers
    for route in ROUTES:
        panels = PANELS.get(route.name, ())
        endpoint = _endpoint(route.handler, as_json=False, panels=panels)
        if route.twin:
            twin = "/index.json" if route.path == "/" else route.path + ".json"
            app.router.routes.append(StarletteRoute(twin, _endpoint(route.handler, as_json=True, panels=panels), methods=["GET", "HEAD"], name=route.name + "_json"))
        app.router.routes.append(StarletteRoute(route.path, endpoint, methods=["GET", "HEAD"], name=route.name))
    app.router.routes.extend(metrics.routes(settings))  # /metrics, /healthz, /readyz
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(pages.NotFound, _not_found)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(SecurityHeaders)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI):
    """Start the alert board's MQTT feed with the server (when `[mqtt]` is configured), and warm the city
    pages' caches in a background thread (the app answers meanwhile); stop the feed after."""
    from prometheus_client import CollectorRegistry

    from iotorino.core.supervisor import Supervisor
    from iotorino.web.sections import city

    city.start_warming(app.state)

    board, mqtt = app.state.alert_board, app.state.settings.mqtt
    feed = supervisor = None
    if board is not None:
        supervisor = Supervisor("web", registry=CollectorRegistry())
        feed = AlertFeed(board, mqtt).start(supervisor)
    app.state.supervisor = supervisor
    try:
        yield
    finally:
        if feed is not None:
            supervisor.stop()
            feed.stop()


def _endpoint(handler, as_json: bool, panels=()):
    async def endpoint(request: Request) -> Response:
        result = await run_in_threadpool(handler, request)
        if isinstance(result, Response):
            return result
        if panels:  # what other sections add to this page (routes.PANELS), on a copy: `data` may be cached
            result.data = dict(result.data)
            added = set()
            for panel in panels:
                before = set(result.data)
                panel(request, result)
                added |= set(result.data) - before
            if result.cache_key is not None:  # rendered HTML is kept per version: the panels' data is part of it
                panel_data = {k: result.data[k] for k in sorted(added)}
                result.cache_key = (result.cache_key, json.dumps(panel_data, sort_keys=True, default=str))
        return pages.render(request, result, as_json)

    endpoint.__name__ = getattr(handler, "__name__", "endpoint")
    return endpoint


def _templates(settings: WebSettings) -> jinja2.Environment:
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader([str(d) for d in settings.template_dirs]),
                                  jinja2.FileSystemLoader(str(HERE / "templates"))])
    env = jinja2.Environment(loader=loader, autoescape=jinja2.select_autoescape(["html"]), undefined=jinja2.StrictUndefined)
    env.filters["number"] = i18n.number
    env.filters["size"] = i18n.size
    return env


def _helpers(request: Request) -> dict:
    """Functions the templates call: `_` (messages), `url` (localized links), `switch` (the other language)."""
    lang = request.state.lang
    path = request.state.unprefixed_path

    def switch(to: str) -> str:
        if to == i18n.DEFAULT:
            return path + "?" + urlencode({"lang": to})
        return i18n.localized(to, path)

    return {
        "_": lambda key, **params: i18n.translate(lang, key, **params),
        "url": lambda target: i18n.localized(lang, target),
        "switch": switch,
        "languages": i18n.LANGUAGES,
        "path": path,
        "json_path": ("/index" if path == "/" else path) + ".json",
    }


class LanguageMiddleware:
    """Sets `request.state.lang` from the /en prefix, ?lang= or the cookie; strips the prefix before routing."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        prefix_lang, path = i18n.split_prefix(scope["path"])
        lang, explicit = i18n.choose(prefix_lang, request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))
        scope = dict(scope, path=path, raw_path=path.encode())
        scope.setdefault("state", {})
        scope["state"].update(lang=lang, unprefixed_path=path)

        async def send_with_language(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"content-language", lang.encode()))
                headers.append((b"vary", b"Cookie"))
                if explicit:
                    headers.append((b"set-cookie", f"{i18n.COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax".encode()))
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, send_with_language)


class SecurityHeaders:
    """Headers that keep pages on this host: a content security policy allowing only the app's own files."""

    HEADERS = [
        (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                                     b"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message, headers=list(message.get("headers", [])) + self.HEADERS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _not_found(request: Request, exc: pages.NotFound) -> Response:
    return pages.error_response(request, exc.status, exc.key, exc.params)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        return pages.error_response(request, 404, "common.no_such_page", {"path": request.url.path})
    if exc.status_code == 405:
        return pages.error_response(request, 405, "common.read_only", {})
    return pages.error_response(request, exc.status_code, "common.http_error", {"status": exc.status_code})


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("error serving %s", request.url.path)
    return pages.error_response(request, 500, "common.server_error", {})
