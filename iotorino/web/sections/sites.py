"""Places from the inventory as the pages show them: schools and street units, GeoJSON points, extents."""

from __future__ import annotations

from typing import Any, Iterable


def schools(inventory) -> list[dict[str, Any]]:
    """Every school: id, name, level, pupils, floor area, district, rooms, meters, lon/lat; by id."""
    return [
        {"id": s.id, "name": s.name, "level": s.level, "pupils": s.pupils, "floor_area_m2": s.floor_area_m2,
         "district": s.district, "rooms": len(s.rooms), "meters": len(s.meters), "lon": s.lon, "lat": s.lat}
        for s in sorted(inventory.schools.values(), key=lambda s: s.id)
    ]


def street_units(inventory) -> list[dict[str, Any]]:
    """Every street unit: id, district, profile, installation date, lon/lat; by id."""
    return [
        {"id": u.id, "district": u.district, "profile": u.profile, "installed": u.installed.isoformat(), "lon": u.lon, "lat": u.lat}
        for u in sorted(inventory.street_units.values(), key=lambda u: u.id)
    ]


def geojson(places: Iterable[dict[str, Any]], label: str = "id") -> dict[str, Any]:
    """A GeoJSON FeatureCollection of points, each with its `id` and a `label`."""
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
             "properties": {"id": p["id"], "label": p.get(label, p["id"])}}
            for p in places
        ],
    }


def bbox(places: Iterable[dict[str, Any]]) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of the places, or None when there are none."""
    places = list(places)
    if not places:
        return None
    lons, lats = [p["lon"] for p in places], [p["lat"] for p in places]
    return (min(lons), min(lats), max(lons), max(lats))


def by_coverage(inventory) -> dict[str, list[dict[str, Any]]]:
    """The places each coverage kind of the portal texts means: street, schools, city (both)."""
    street, school = street_units(inventory), schools(inventory)
    return {"street": street, "schools": school, "city": street + school}
