"""`/scuole`: the school dashboards. The city's overview of every school, each school's page for its head
teacher and caretaker, and a pupils' page with this week's energy and each classroom's air now.

Every number comes from `iotorino.schools.views` over the published daily KPIs (`school_data`), so the
JSON twin of a page holds exactly what it shows; a classroom's CO₂ "now" is the last value of the last
30 minutes in the store, when the app has one.

A school's figures (its view model: no translated text in it) are computed once per published data
version and kept in a bounded `ModelCache`; a request after that only renders. The classrooms' CO₂
now is asked of the store on every request.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

from starlette.requests import Request

from iotorino.schools import views
from iotorino.web.pages import BadRequest, NotFound, Page
from iotorino.web.sections import sites
from iotorino.web.sections.school_data import ModelCache, SchoolData

WEEKS_SHOWN = 8
DESCENDING, ASCENDING = "decrescente", "crescente"  # `?verso=` of the overview's order
_STATE_LOCK = threading.Lock()  # one SchoolData and one ModelCache per application, even under concurrent first requests


def _data(request: Request) -> SchoolData:
    state = request.app.state
    if not hasattr(state, "school_data"):
        with _STATE_LOCK:
            if not hasattr(state, "school_data"):
                state.school_models = ModelCache()
                state.school_data = SchoolData(state.settings.exports_dir)
    return state.school_data


def _model(request: Request, page: str, school, compute) -> dict:
    """`compute(data, school, today)`: the view model of `page` for `school`, once per published data version."""
    data = _data(request)
    version = data.version()
    today = version[0][-1][0] if version[0] else date.today()  # the last energy day published
    # What the figures read of the school (an edited inventory makes a new key too), the data and the day.
    key = (page, school.id, school.level, school.pupils, school.floor_area_m2, school.rooms, version, today)
    return request.app.state.school_models.get(key, lambda: compute(data, school, today))


def _school(request: Request):
    school_id = request.path_params["school"]
    school = request.app.state.settings.inventory().schools.get(school_id)
    if school is None:
        raise NotFound("scuole.unknown_school", school=school_id)
    return school


def index(request: Request) -> Page:
    """The city overview: every school's year, its rank among schools of its level, and a map."""
    inventory = request.app.state.settings.inventory()
    data = _data(request)
    today = data.last_day()
    places = sites.schools(inventory)
    overview = _overview(request, data, inventory, today)
    key, worst_first = _sort_order(request)
    # Flagged: the school of each level (of two or more with data) that uses most electricity per pupil.
    worst = [r for r in overview["schools"]
             if r["electricity"]["rank"] and r["electricity"]["rank_of"] >= 2
             and r["electricity"]["rank"] == r["electricity"]["rank_of"]]
    return Page("scuole/index.html", {
        "today": overview["today"],
        "schools": views.sort_rows(overview["schools"], key, worst_first),
        "sort": {"key": key, "worst_first": worst_first, "direction": DESCENDING if worst_first else ASCENDING,
                 "rank_key": key if key in views.SORT_KEYS else views.DEFAULT_SORT},
        "worst": [r["school_id"] for r in worst],
        "totals": {"schools": len(places), "rooms": sum(s["rooms"] for s in places),
                   "meters": sum(s["meters"] for s in places), "pupils": sum(s["pupils"] for s in places)},
        "map": sites.geojson(places, label="name"),
    }, "scuole.title")


def _sort_order(request: Request) -> tuple[str, bool]:
    """`?ordina=` (a KPI of `views.SORT_KEYS` or `nome`) and `?verso=` (`decrescente`, `crescente`).

    By default the worst first: the KPIs descending (higher is worse), the names A to Z.
    """
    key = request.query_params.get("ordina") or views.DEFAULT_SORT
    accepted = [*views.SORT_KEYS, views.NAME_SORT]
    if key not in accepted:
        raise BadRequest("scuole.bad_sort", field="ordina", value=key, accepted=", ".join(accepted))
    direction = request.query_params.get("verso") or (ASCENDING if key == views.NAME_SORT else DESCENDING)
    if direction not in (ASCENDING, DESCENDING):
        raise BadRequest("scuole.bad_sort", field="verso", value=direction, accepted=f"{DESCENDING}, {ASCENDING}")
    # Names: "descending" is Z to A; KPIs: descending is the worst (highest) first.
    return key, direction == DESCENDING


def _overview(request: Request, data: SchoolData, inventory, today: date | None) -> dict:
    """The overview's figures, computed again only when a published partition changed (the frame is new)."""
    frame = data.energy()
    state = request.app.state
    cached = getattr(state, "school_overview", None)
    if cached is not None and cached[0] is frame and cached[1] == today:
        return cached[2]
    overview = views.overview(frame, list(inventory.schools.values()), today or date.today())
    if today is None:
        overview["today"] = None
    state.school_overview = (frame, today, overview)
    return overview


def school(request: Request) -> Page:
    """One school: per fuel the year, the last weeks day by day, baseload, day types, heating, classrooms."""
    school = _school(request)
    model = _model(request, "school", school, _school_model)
    return Page("scuole/school.html", {
        "school": {"id": school.id, "name": school.name, "level": school.level, "pupils": school.pupils,
                   "floor_area_m2": school.floor_area_m2, "heating_system": school.heating_system},
        **model,
    }, "scuole.school_title", {"name": school.name})


def _school_model(data: SchoolData, school, today: date) -> dict:
    """The school page's figures over the published frames: the pandas work a warm request skips."""
    first = today - timedelta(weeks=WEEKS_SHOWN) + timedelta(days=1)
    energy = _of_school(data.energy(), school.id)
    fuels = {}
    for fuel in views.FUELS:
        has = len(energy) and ((energy["school_id"] == school.id) & (energy["fuel"] == fuel)).any()
        fuels[fuel] = {"summary": views.year_summary(energy, school, fuel, today) if has else None,
                       "series": views.series(energy, school.id, fuel, first, today) if has else None}
    heat = views.heating_model(energy, school.id, today - timedelta(days=364), today) if len(energy) else None
    air = _of_school(data.air(), school.id)
    rooms = views.classrooms(air, school, today - timedelta(days=27), today) if len(air) else []
    return {"today": today.isoformat(), "first": first.isoformat(), "fuels": fuels, "heating": heat,
            "classrooms": rooms}


def _of_school(frame, school_id: str):
    """The frame's rows of one school: one pass over the city's two years, then every figure reads a few hundred rows."""
    return frame[frame["school_id"] == school_id] if len(frame) else frame


def pupils(request: Request) -> Page:
    """The pupils' page: this week against last week, what it means, and each classroom's air now."""
    school = _school(request)
    week = _model(request, "pupils", school, _pupil_week)["week"]
    now = _co2_now(request, school)  # live: never cached
    rooms = [{"room_id": r.id, "name": r.name, "co2_ppm": now.get(r.id), "light": views.traffic_light(now.get(r.id))}
             for r in school.rooms]
    return Page("scuole/alunni.html", {"school": {"id": school.id, "name": school.name}, "week": week,
                                        "rooms": rooms}, "scuole.pupils_title", {"name": school.name})


def _pupil_week(data: SchoolData, school, today: date) -> dict:
    energy = _of_school(data.energy(), school.id)
    return {"week": views.pupil_week(energy, school.id, today) if len(energy) else None}


def _co2_now(request: Request, school) -> dict[str, float]:
    """Each room's last CO₂ value of the last 30 minutes, from the store; empty without a store."""
    store = request.app.state.settings.store
    if store is None:
        return {}
    school_id = school.id.replace("'", "")
    try:
        series = store.query('SELECT last("co2") FROM "indoor_climate" WHERE "school" = '
                             f"'{school_id}' AND time > now() - 30m GROUP BY \"room\"")
    except Exception:  # noqa: BLE001 - a store that is down leaves the lights grey, never an error page
        return {}
    return {s["tags"]["room"]: float(s["values"][0][1]) for s in series if s.get("values") and s["values"][0][1] is not None}
