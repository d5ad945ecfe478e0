"""`/citta`: the street units by circoscrizione from the inventory; indicators and alerts come later (issue 11)."""

from __future__ import annotations

from collections import Counter

from starlette.requests import Request

from iotorino.web.pages import Page
from iotorino.web.sections import sites


def index(request: Request) -> Page:
    """Every street unit by district, with a map and the count per district and profile."""
    units = sites.street_units(request.app.state.settings.inventory())
    per_district = Counter(u["district"] for u in units)
    profiles = Counter(u["profile"] for u in units)
    data = {
        "units": units,
        "districts": [{"district": d, "units": per_district[d]} for d in sorted(per_district)],
        "profiles": [{"profile": p, "units": n} for p, n in sorted(profiles.items())],
        "map": sites.geojson(units),
    }
    return Page("citta/index.html", data, "citta.title")
