"""`/scuole`: the schools of "IoT per le Scuole" from the inventory; their energy and air dashboards come later (issue 10)."""

from __future__ import annotations

from starlette.requests import Request

from iotorino.web.pages import Page
from iotorino.web.sections import sites


def index(request: Request) -> Page:
    """Every monitored school with its level, pupils, floor area, rooms and meters, and a map."""
    schools = sites.schools(request.app.state.settings.inventory())
    data = {
        "schools": schools,
        "totals": {"schools": len(schools), "rooms": sum(s["rooms"] for s in schools), "meters": sum(s["meters"] for s in schools),
                   "pupils": sum(s["pupils"] for s in schools)},
        "map": sites.geojson(schools, label="name"),
    }
    return Page("scuole/index.html", data, "scuole.title")
