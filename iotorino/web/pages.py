"""A page is data plus a template: rendered as HTML, or as its JSON twin at the same path + `.json`.

Handlers return `Page(template, data)` (or a ready `Response` for files);
`NotFound` carries a message key and parameters so the error is told in
Italian and English, never as a stack trace.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from iotorino.web import i18n


@dataclass
class Page:
    """What a handler returns: `template` (under templates/), JSON-able `data`, and the title's message key."""

    template: str
    data: dict[str, Any]
    title: str
    params: dict[str, Any] = field(default_factory=dict)  # for the title message
    cache_key: Any = None  # the version of `data`: its HTML is rendered once per version, language and path


class NotFound(Exception):
    """Nothing at this address: message key and parameters (shown in both languages), HTTP 404."""

    status = 404

    def __init__(self, key: str, **params: Any) -> None:
        self.key = key
        self.params = params
        super().__init__(i18n.translate("en", key, **params))


class BadRequest(NotFound):
    """A query parameter that cannot be used: message key and parameters, HTTP 400."""

    status = 400


def _default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """UTF-8 JSON (dates as ISO 8601), pretty enough to read in a browser."""
    body = json.dumps(data, ensure_ascii=False, indent=1, default=_default)
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def render(request: Request, page: Page, as_json: bool) -> Response:
    """The page as HTML through its template, or its data as JSON."""
    if as_json:
        return json_response(page.data)
    lang = request.state.lang
    if page.cache_key is None:
        return HTMLResponse(_html(request, page, lang))
    cache = _rendered(request.app.state)
    key = (page.template, lang, request.state.unprefixed_path, page.cache_key)
    with _RENDER_LOCK:
        html = cache.get(key)
        if html is not None:
            cache.move_to_end(key)
    if html is None:
        html = _html(request, page, lang)
        with _RENDER_LOCK:
            cache[key] = html
            while len(cache) > RENDERED_PAGES:
                cache.popitem(last=False)
    return HTMLResponse(html)


RENDERED_PAGES = 512  # HTML of versioned pages kept (least recently used dropped): a few MB
_RENDER_LOCK = threading.Lock()


def _rendered(state) -> OrderedDict:
    with _RENDER_LOCK:
        if not hasattr(state, "rendered_pages"):
            state.rendered_pages = OrderedDict()
        return state.rendered_pages


def _html(request: Request, page: Page, lang: str) -> str:
    return request.app.state.templates.get_template(page.template).render(
        request=request, data=page.data, lang=lang, title=i18n.translate(lang, page.title, **page.params),
        **request.app.state.template_helpers(request),
    )


def error_response(request: Request, status: int, key: str, params: dict[str, Any]) -> Response:
    """An error as JSON (for `.json` paths and JSON clients) or as an HTML page, its text in both languages."""
    messages = i18n.both(key, **params)
    wants_json = request.url.path.endswith((".json", ".jsonld")) or "application/json" in request.headers.get("accept", "")
    if wants_json or not hasattr(request.state, "lang"):
        return JSONResponse({"error": key, "status": status, "message": messages, **_plain(params)}, status_code=status)
    page = Page("error.html", {"status": status, "messages": messages}, "common.error_title", {"status": status})
    response = render(request, page, as_json=False)
    response.status_code = status
    return response


def _plain(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (str, int, float, list)) else str(v) for k, v in params.items()}
