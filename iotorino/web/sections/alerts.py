"""`/allerte`: the live alert board, and the alert panels of the school and city pages.

Every alert comes from the app's `AlertBoard` (retained on MQTT by the alert
services, `iotorino.web.alertboard`): the episodes going on first, by rating
(10 = act now), then the recently ended ones; each with its start, end, rating,
and message and suggested action in the page's language (both in the JSON
twin). `?ambito=scuole|citta` keeps one scope, `?sito=TO-SC-01` one site (a
school's rooms and meters included). Without `[mqtt]` the pages say the board
is not configured; with the broker unreachable they say the alerts are
unavailable (and show what was known, with since when).

The panels (`routes.PANELS`) add `data["alerts"]` to `/scuole` (active
alerts per school), `/scuole/{school}` (that school's), `/scuole/{school}/alunni`
(classrooms to ventilate now) and `/citta` (active city alerts).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from starlette.requests import Request

from iotorino.core.times import format_ns
from iotorino.web import i18n
from iotorino.web.alertboard import Posted, Snapshot
from iotorino.web.pages import BadRequest, Page

ROME = ZoneInfo("Europe/Rome")
# The page's scope filter word -> the alert contract's scope.
SCOPE_WORDS = {"scuole": "school", "citta": "city"}
SITE = re.compile(r"[A-Za-z0-9-]{1,63}(/[A-Za-z0-9-]{1,63})?")
VENTILATE = "co2_ventilate"


def index(request: Request) -> Page:
    """The board: active alerts by rating, then the recently ended ones; filters by scope and site."""
    word = request.query_params.get("ambito", "")
    site = request.query_params.get("sito", "")
    if word and word not in SCOPE_WORDS:
        raise BadRequest("allerte.bad_scope", value=word[:40], accepted=", ".join(SCOPE_WORDS))
    if site and not SITE.fullmatch(site):
        raise BadRequest("allerte.bad_site", value=site[:80], accepted="TO-SC-01, TO-SC-01/R01, TO-SU-0001")
    snapshot = _snapshot(request)
    scope = SCOPE_WORDS.get(word)

    def keep(p: Posted) -> bool:
        return (scope is None or p.scope == scope) and (not site or _at(p.alert.site, site))

    lang = request.state.lang
    data = _status(snapshot)
    everything = (snapshot.active + snapshot.ended) if snapshot else ()
    data.update({
        "filters": {"ambito": word or None, "sito": site or None},
        "scopes": list(SCOPE_WORDS),
        "sites": sorted({p.alert.site.split("/")[0] for p in everything}),
        "active": [_item(p, lang) for p in (snapshot.active if snapshot else ()) if keep(p)],
        "ended": [_item(p, lang) for p in (snapshot.ended if snapshot else ()) if keep(p)],
        "messages": snapshot.messages if snapshot else 0,
        "rejected": snapshot.rejected if snapshot else {},
        "last_rejections": [
            {"time": format_ns(r.time_ns), "topic": r.topic, "reason": r.reason, "field": r.field, "value": r.value,
             "accepted": r.accepted} for r in (snapshot.last_rejections if snapshot else ())],
    })
    return Page("allerte/index.html", data, "allerte.title")


def schools_panel(request: Request, page: Page) -> None:
    """`/scuole`: the active school alerts and how many each school has."""
    snapshot = _snapshot(request)
    active = [p for p in (snapshot.active if snapshot else ()) if p.scope == "school"]
    schools = request.app.state.settings.inventory().schools
    per_school = Counter(p.alert.site.split("/")[0] for p in active)
    page.data["alerts"] = {
        **_status(snapshot),
        "by_school": [{"school_id": s, "name": schools[s].name if s in schools else s, "active": n}
                      for s, n in sorted(per_school.items(), key=lambda x: (-x[1], x[0]))],
        "active": [_item(p, request.state.lang) for p in active],
    }


def school_panel(request: Request, page: Page) -> None:
    """`/scuole/{school}`: that school's active and recently ended alerts."""
    school = request.path_params["school"]
    snapshot = _snapshot(request)

    def mine(posted: tuple[Posted, ...]) -> list[dict]:
        return [_item(p, request.state.lang) for p in posted if p.scope == "school" and _at(p.alert.site, school)]

    page.data["alerts"] = {**_status(snapshot), "school_id": school,
                           "active": mine(snapshot.active) if snapshot else [],
                           "ended": mine(snapshot.ended) if snapshot else []}


def pupils_panel(request: Request, page: Page) -> None:
    """`/scuole/{school}/alunni`: the classrooms whose CO₂ alert says to ventilate now."""
    school_id = request.path_params["school"]
    snapshot = _snapshot(request)
    school = request.app.state.settings.inventory().schools.get(school_id)
    names = {r.id: r.name for r in school.rooms} if school else {}
    rooms = []
    for p in (snapshot.active if snapshot else ()):
        owner, _, room = p.alert.site.partition("/")
        if p.scope == "school" and p.alert.kind == VENTILATE and owner == school_id and room in names:
            rooms.append({**_item(p, request.state.lang), "room_id": room, "room": names[room]})
    page.data["alerts"] = {**_status(snapshot), "ventilate": sorted(rooms, key=lambda r: r["room"])}


def city_panel(request: Request, page: Page) -> None:
    """`/citta`: the city alerts going on."""
    snapshot = _snapshot(request)
    page.data["alerts"] = {**_status(snapshot), "active": [
        _item(p, request.state.lang) for p in (snapshot.active if snapshot else ()) if p.scope == "city"]}


# --- shared -------------------------------------------------------------------------------------------


def _snapshot(request: Request) -> Snapshot | None:
    board = request.app.state.alert_board
    return board.snapshot() if board is not None else None


def _status(snapshot: Snapshot | None) -> dict:
    """`status`: live, unavailable (broker unreachable) or not_configured; `since`: since when (RFC 3339);
    `signature`: changes whenever the board's state or episodes do (the open page polls it, static/alerts.js)."""
    if snapshot is None:
        return {"status": "not_configured", "since": None, "since_local": None, "signature": "off"}
    since = snapshot.since_ns
    status = "live" if snapshot.connected else "unavailable"
    state = status + "".join(f"|{p.alert.id}:{p.alert.end_ns}" for p in snapshot.active + snapshot.ended)
    return {"status": status,
            "since": format_ns(since) if since is not None else None,
            "since_local": _local(since) if since is not None else None,
            "signature": hashlib.sha256(state.encode()).hexdigest()[:16]}


def _at(site: str, wanted: str) -> bool:
    """Whether `site` is `wanted` or one of its points (a school's room or meter)."""
    return site == wanted or site.startswith(wanted + "/")


def _item(posted: Posted, lang: str) -> dict:
    """An alert as the pages show it: the contract's fields, its scope, local times, text in `lang`."""
    alert = posted.alert
    kind_key = f"allerte.kind_{alert.kind}"
    return {
        **alert.to_dict(),
        "scope": posted.scope,
        "kind_name": i18n.translate(lang, kind_key) if kind_key in i18n.catalogue(lang) else alert.kind,
        "start_local": _local(alert.start_ns),
        "end_local": _local(alert.end_ns) if alert.end_ns is not None else None,
        "message": alert.message_it if lang == "it" else alert.message_en,
        "action": alert.action_it if lang == "it" else alert.action_en,
        "band": "high" if alert.rating >= 7 else "medium" if alert.rating >= 4 else "low",
    }


def _local(time_ns: int) -> str:
    """Turin's local time, to the minute: 2026-11-21 08:00."""
    return datetime.fromtimestamp(time_ns / 1e9, timezone.utc).astimezone(ROME).strftime("%Y-%m-%d %H:%M")
