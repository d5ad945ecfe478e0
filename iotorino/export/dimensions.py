"""The `stations` and `schools` dimension tables: GeoParquet 1.1 points from the inventory.

Column texts come from the inventory's JSON Schemas in `schemas/` where they
describe the property; geometry is a WKB point in lon/lat (OGC:CRS84, the
GeoParquet default when `crs` is absent), declared in the file's `geo` metadata.
"""

from __future__ import annotations

import json
import struct
from functools import lru_cache
from typing import Any

import pyarrow as pa

from iotorino.core import paths
from iotorino.core.errors import ConfigError
from iotorino.export.columns import Column

GEOMETRY = "geometry"


def wkb_point(lon: float, lat: float) -> bytes:
    """ISO WKB of a 2D point, little-endian."""
    return struct.pack("<BIdd", 1, 1, lon, lat)


def geo_metadata(lons: list[float], lats: list[float]) -> dict[str, str]:
    """The GeoParquet 1.1 `geo` file metadata for a WKB point column named `geometry`."""
    column: dict[str, Any] = {"encoding": "WKB", "geometry_types": ["Point"]}
    if lons:
        column["bbox"] = [min(lons), min(lats), max(lons), max(lats)]
    return {"geo": json.dumps({"version": "1.1.0", "primary_column": GEOMETRY, "columns": {GEOMETRY: column}})}


@lru_cache(maxsize=None)
def _schema_properties(schema_file: str, definition: str) -> dict[str, str]:
    path = paths.SCHEMAS / schema_file
    if not path.exists():
        return {}
    schema = json.loads(path.read_text(encoding="utf-8"))
    defs = schema.get("$defs", {})
    out = {}
    for name, prop in defs.get(definition, {}).get("properties", {}).items():
        text = prop.get("description")
        if not text and "$ref" in prop:
            text = defs.get(prop["$ref"].rsplit("/", 1)[-1], {}).get("description")
        if text:
            out[name] = text
    return out


def described(schema_file: str, definition: str, prop: str, name: str, type_: pa.DataType, fallback: str, unit: str = "") -> Column:
    """A column described by the inventory schema's text for `prop`, or by `fallback` when it has none."""
    return Column(name, type_, _schema_properties(schema_file, definition).get(prop, fallback), unit)


def _geometry_columns(schema_file: str, definition: str) -> list[Column]:
    return [
        described(schema_file, definition, "lon", "lon", pa.float64(), "WGS 84 longitude, degrees east.", "deg"),
        described(schema_file, definition, "lat", "lat", pa.float64(), "WGS 84 latitude, degrees north.", "deg"),
        Column(GEOMETRY, pa.binary(), "Location as a WKB point (lon, lat; OGC:CRS84), GeoParquet 1.1."),
    ]


def _require(inventory: Any | None) -> Any:
    if inventory is None:
        raise ConfigError("inventory", "the dimension tables need the inventory (iotorino.core.inventory)", "hardware/*.json")
    return inventory


def stations(ctx) -> tuple[list[Column], dict[str, list], dict[str, str]]:
    """One row per street unit: id, district, profile, installation date, reported measurements, location."""
    inventory = _require(ctx.inventory)
    f, d = "street_units.schema.json", "unit"
    columns = [
        described(f, d, "id", "unit_id", pa.string(), "Street-furniture unit id."),
        described(f, d, "district", "district", pa.int8(), "Turin circoscrizione, 1-8."),
        described(f, d, "profile", "profile", pa.string(), "Device profile of the unit."),
        described(f, d, "installed", "installed", pa.date32(), "Installation date."),
        Column("measurements", pa.string(), "Measurements the unit's profile reports, comma-separated (see the catalogue)."),
        *_geometry_columns(f, d),
    ]
    units = sorted(inventory.street_units.values(), key=lambda u: u.id)
    profiles = inventory.profiles
    data = {
        "unit_id": [u.id for u in units],
        "district": [int(u.district) for u in units],
        "profile": [u.profile for u in units],
        "installed": [u.installed for u in units],
        "measurements": [",".join(profiles[u.profile].measurements) if u.profile in profiles else None for u in units],
        "lon": [u.lon for u in units],
        "lat": [u.lat for u in units],
        GEOMETRY: [wkb_point(u.lon, u.lat) for u in units],
    }
    return columns, data, geo_metadata(data["lon"], data["lat"])


def schools(ctx) -> tuple[list[Column], dict[str, list], dict[str, str]]:
    """One row per school: id, name, level, pupils, floor area, district, monitored rooms and meters, location."""
    inventory = _require(ctx.inventory)
    f, d = "schools.schema.json", "school"
    columns = [
        described(f, d, "id", "school_id", pa.string(), "School id."),
        described(f, d, "name", "name", pa.string(), "School name."),
        described(f, d, "level", "level", pa.string(), "School level: infanzia, primaria, secondaria_1 (secondaria di primo grado) or secondaria_2 (secondaria di secondo grado)."),
        described(f, d, "pupils", "pupils", pa.int32(), "Enrolled pupils.", "count"),
        described(f, d, "floor_area_m2", "floor_area_m2", pa.float64(), "Gross floor area.", "m2"),
        described(f, d, "district", "district", pa.int8(), "Turin circoscrizione, 1-8."),
        Column("rooms", pa.int16(), "Number of rooms with indoor-climate sensors.", "count"),
        Column("meters", pa.int16(), "Number of electricity meters (the main incomer and sub-boards).", "count"),
        Column("heat_meters", pa.int16(), "Number of heat meters (district-heating substation or boiler output).",
               "count"),
        Column("heating_system", pa.string(), "How the building is heated: district_heating (teleriscaldamento), "
               "gas_boiler or heat_pump."),
        *_geometry_columns(f, d),
    ]
    rows = sorted(inventory.schools.values(), key=lambda s: s.id)
    data = {
        "school_id": [s.id for s in rows],
        "name": [s.name for s in rows],
        "level": [s.level for s in rows],
        "pupils": [s.pupils for s in rows],
        "floor_area_m2": [float(s.floor_area_m2) for s in rows],
        "district": [int(s.district) for s in rows],
        "rooms": [len(s.rooms) for s in rows],
        "meters": [_meters_reporting(inventory, s, "energy") for s in rows],
        "heat_meters": [_meters_reporting(inventory, s, "heat") for s in rows],
        "heating_system": [s.heating_system for s in rows],
        "lon": [s.lon for s in rows],
        "lat": [s.lat for s in rows],
        GEOMETRY: [wkb_point(s.lon, s.lat) for s in rows],
    }
    return columns, data, geo_metadata(data["lon"], data["lat"])


def _meters_reporting(inventory, school, measurement: str) -> int:
    """How many of the school's meters report `measurement` (by their profiles)."""
    return sum(measurement in inventory.profiles[m.profile].measurements for m in school.meters)
