"""The application factory: `create_app(settings)` wires routes, templates, static files and languages.

Nothing here reads the environment: everything comes from `WebSettings`.
No route writes anything; errors become a page or JSON in Italian and
English, never a stack trace.
"""

from __future__ import annotations

import contextlib
import logging
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
from iotorino.web import assets, i18n, pages
from iotorino.web.routes import ROUTES
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
    app.state.templates = _templates(settings)
    app.state.template_helpers = _helpers
    for route in ROUTES:
        endpoint = _endpoint(route.handler, as_json=False)
        if route.twin:
            twin = "/index.json" if route.path == "/" else route.path + ".json"
            app.router.routes.append(StarletteRoute(twin, _endpoint(route.handler, as_json=True), methods=["GET", "HEAD"], name=route.name + "_json"))
        app.router.routes.append(StarletteRoute(route.path, endpoint, methods=["GET", "HEAD"], name=route.name))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(pages.NotFound, _not_found)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(SecurityHeaders)
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI):
    """At start: the city pages' caches are warmed in a background thread (the app answers meanwhile)."""
    from iotorino.web.sections import city

    city.start_warming(app.state)
    yield


def _endpoint(handler, as_json: bool):
    async def endpoint(request: Request) -> Response:
        result = await run_in_threadpool(handler, request)
        if isinstance(result, Response):
            return result
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
