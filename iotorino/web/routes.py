"""Every route of the web application, in one place.

A `Route` with `twin=True` answers at `path` (HTML) and `path + ".json"` (its
data). Order matters where patterns overlap: fixed paths before `{params}`.
Handlers are plain functions `handler(request) -> Page | Response`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from iotorino.web.sections import alerts, city, home, opendata, schools


@dataclass(frozen=True)
class Route:
    """`path` served by `handler`, named `name`; `twin`: also `path.json`."""

    path: str
    handler: Callable
    name: str
    twin: bool = True


ROUTES: list[Route] = [
    Route("/", home.index, "home"),
    Route("/dati", opendata.index, "opendata"),
    Route("/dati/catalogo.ttl", opendata.catalogue_ttl, "catalogue_turtle", twin=False),
    Route("/dati/catalogo.jsonld", opendata.catalogue_json_ld, "catalogue_jsonld", twin=False),
    Route("/dati/{dataset}", opendata.dataset, "dataset"),
    Route("/dati/{dataset}/modifiche", opendata.changes, "changes"),
    Route("/dati/{dataset}/{filename}", opendata.download, "download", twin=False),
    Route("/scuole", schools.index, "schools"),
    Route("/scuole/{school}", schools.school, "school"),
    Route("/scuole/{school}/alunni", schools.pupils, "school_pupils"),
    Route("/citta", city.index, "city"),
    Route("/citta/circoscrizioni", city.districts, "city_districts"),
    Route("/citta/circoscrizioni/{n}", city.district, "city_district"),
    Route("/citta/scuole", city.schools, "city_schools"),
    Route("/citta/scuole/{school}", city.school, "city_school"),
    Route("/citta/unita/{unit}", city.unit, "city_unit"),
    Route("/allerte", alerts.index, "alerts"),
]

# Panels one section adds to another's pages: route name -> functions `panel(request, page)` that put their
# data in `page.data` (so the JSON twin has it too); the page's template includes the panel's template.
PANELS: dict[str, tuple[Callable, ...]] = {
    "schools": (alerts.schools_panel,),
    "school": (alerts.school_panel,),
    "school_pupils": (alerts.pupils_panel,),
    "city": (alerts.city_panel,),
}
