"""Reading hardware/ into an `Inventory`: JSON Schema validation, then cross-checks.

Each file is first validated against its schema in schemas/ (shape, id
patterns, ranges); then what a schema cannot see is checked: profile ids
exist and fit the place they are used, profile measurements, fields and units
agree with the catalogue, ids are unique, beacon identities are unique and
every beacon's host unit exists. The first problem raises `InventoryError`
naming the file, the path inside it ("units[12].profile") and the value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

import yaml

from iotorino.core import paths, sites
from iotorino.core.catalogue import Catalogue, MeasurementSpec
from iotorino.core.fleet import (
    SITE_TAGS,
    Beacon,
    Inventory,
    InventoryError,
    Meter,
    Profile,
    Quantity,
    Room,
    School,
    Sensor,
    StreetUnit,
)

if TYPE_CHECKING:
    import jsonschema


def read_inventory(root: Path, catalogue: Catalogue) -> Inventory:
    """Read the four inventory files in `root`, check them, and build the `Inventory`."""
    profiles = read_profiles(root / "profiles.yaml", catalogue)
    units = read_street_units(root / "street_units.json", profiles)
    schools = read_schools(root / "schools.json", profiles)
    beacons = read_beacons(root / "beacons.json", units)
    return Inventory(
        profiles=MappingProxyType(profiles),
        street_units=MappingProxyType(units),
        schools=MappingProxyType(schools),
        beacons=MappingProxyType(beacons),
        beacon_measurements=site_measurements(catalogue, "beacon"),
        gateway_measurements=site_measurements(catalogue, "gateway"),
    )


def site_measurements(catalogue: Catalogue, site: str) -> tuple[str, ...]:
    """The catalogue's measurements of a profile-less `site` (beacon, gateway), checked to carry the
    tags that site's topic gives."""
    names = tuple(m.name for m in catalogue.measurements.values() if m.site == site)
    for name in names:
        tags = catalogue.measurements[name].tags
        if set(tags) != set(SITE_TAGS[site]):
            raise InventoryError(
                "schemas/catalogue.yaml", f"measurements.{name}.tags", f"differ from the tags a {site} topic gives",
                sorted(tags), ", ".join(SITE_TAGS[site]),
            )
    return names


def read_document(path: Path, schema_name: str) -> tuple[str, Any]:
    """(display name, parsed content) of a YAML or JSON file valid against schemas/{schema_name}.schema.json."""
    file = display_name(path)
    try:
        text = path.read_text(encoding="utf-8")
        document = yaml.safe_load(text) if path.suffix in (".yaml", ".yml") else json.loads(text)
    except OSError as exc:
        raise InventoryError(file, "", "cannot read the file", exc.strerror or str(exc)) from exc
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise InventoryError(file, "", "not valid YAML/JSON", str(exc)) from exc
    # Validation is most of the cost of loading: a document already found valid against the same schema
    # (same texts, same jsonschema) is not checked again, in this process or, through VALID_CACHE, in the next.
    schema_text = (paths.SCHEMAS / f"{schema_name}.schema.json").read_text(encoding="utf-8")
    key = hashlib.sha256("\0".join((jsonschema_version, schema_text, text)).encode("utf-8")).hexdigest()
    if key not in _valid():
        from jsonschema.exceptions import best_match  # imported only to validate: a second of every start-up

        error = best_match(validator(schema_text).iter_errors(document))
        if error is not None:
            raise InventoryError(
                file, json_path(error.absolute_path), f"does not match {schema_name}.schema.json: {error.message}",
                error.instance,
            )
        _remember_valid(key)
    return file, document


# Keys (see read_document) of documents found valid, one per line; losing the file only costs time.
VALID_CACHE = paths.VAR / "cache" / "inventory-valid.txt"
VALID_CACHE_MAX_BYTES = 1 << 20
jsonschema_version = metadata.version("jsonschema")


@lru_cache(maxsize=1)
def _valid() -> set[str]:
    try:
        return set(VALID_CACHE.read_text(encoding="ascii").split())
    except (OSError, UnicodeDecodeError):
        return set()


def _remember_valid(key: str) -> None:
    _valid().add(key)
    try:
        VALID_CACHE.parent.mkdir(parents=True, exist_ok=True)
        full = VALID_CACHE.exists() and VALID_CACHE.stat().st_size > VALID_CACHE_MAX_BYTES
        with VALID_CACHE.open("w" if full else "a", encoding="ascii") as cache:  # full: start again
            cache.write(key + "\n")
    except OSError:
        pass  # a read-only installation validates every time


@lru_cache(maxsize=8)
def validator(schema_text: str) -> jsonschema.Draft202012Validator:
    """The validator of a JSON Schema's text, built once per process."""
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(schema_text),
                                           format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def read_profiles(path: Path, catalogue: Catalogue) -> dict[str, Profile]:
    """Profiles by id, their sensors' measurements, fields, units and ranges checked against the catalogue."""
    file, document = read_document(path, "profiles")
    profiles = {}
    for profile_id, raw in document["profiles"].items():
        where = f"profiles.{profile_id}"
        sensors = []
        for i, raw_sensor in enumerate(raw["sensors"]):
            at = f"{where}.sensors[{i}]"
            spec = catalogue.measurements.get(raw_sensor["measurement"])
            if spec is None:
                raise InventoryError(
                    file, f"{at}.measurement", "no such measurement in the catalogue", raw_sensor["measurement"],
                    ", ".join(catalogue.measurements),
                )
            check_site(file, f"{at}.measurement", raw["site"], spec, catalogue)
            quantities = {
                name: read_quantity(file, f"{at}.quantities.{name}", name, q, spec)
                for name, q in raw_sensor["quantities"].items()
            }
            sensors.append(Sensor(raw_sensor["model"], spec.name, raw_sensor["interval_s"], MappingProxyType(quantities)))
        profile = Profile(profile_id, raw["site"], raw["description"], tuple(sensors))
        check_profile(file, where, profile, catalogue)
        profiles[profile_id] = profile
    return profiles


def read_quantity(file: str, where: str, name: str, raw: Mapping, spec: MeasurementSpec) -> Quantity:
    """A sensor's quantity, checked to be a field of `spec` in its canonical unit and plausible range."""
    field = spec.fields.get(name)
    if field is None:
        raise InventoryError(file, where, f"not a field of measurement {spec.name}", name, ", ".join(spec.fields))
    if raw["unit"] != field.unit:
        raise InventoryError(
            file, f"{where}.unit", f"unit differs from the catalogue's unit of {spec.name}.{name}", raw["unit"],
            field.unit,
        )
    low, high = (float(v) for v in raw["range"])
    if not field.low <= low <= high <= field.high:
        raise InventoryError(
            file, f"{where}.range", "measuring range must be [min, max] within the catalogue's plausible range",
            raw["range"], f"{field.low:g} <= min <= max <= {field.high:g} {field.unit}",
        )
    return Quantity(field.unit, low, high, raw["accuracy"])


def check_site(file: str, where: str, site: str, spec: MeasurementSpec, catalogue: Catalogue) -> None:
    """Raise unless measurement `spec` is reported by this kind of site, with the tags the site gives."""
    catalogue_site = sites.kind(site).topic_site
    if spec.site != catalogue_site:
        raise InventoryError(
            file, where, f"reported by {spec.site} sites, not at a {site}", spec.name,
            ", ".join(m.name for m in catalogue.measurements.values() if m.site == catalogue_site),
        )
    if set(spec.tags) != set(SITE_TAGS[site]):
        raise InventoryError(
            file, where, f"catalogue tags {sorted(spec.tags)} differ from the tags a {site} gives", spec.name,
            ", ".join(SITE_TAGS[site]),
        )


def check_profile(file: str, where: str, profile: Profile, catalogue: Catalogue) -> None:
    """Sensors share one interval per measurement and cover every field of each measurement exactly once."""
    measured: dict[tuple[str, str], int] = {}
    for i, sensor in enumerate(profile.sensors):
        at = f"{where}.sensors[{i}]"
        first_interval = profile.interval_s(sensor.measurement)
        if sensor.interval_s != first_interval:
            raise InventoryError(
                file, f"{at}.interval_s", f"the sensors of {sensor.measurement} must share one reporting interval",
                sensor.interval_s, str(first_interval),
            )
        for name in sensor.quantities:
            if (sensor.measurement, name) in measured:
                raise InventoryError(
                    file, f"{at}.quantities.{name}",
                    f"already measured by sensors[{measured[(sensor.measurement, name)]}]", name,
                )
            measured[(sensor.measurement, name)] = i
    for measurement in profile.measurements:
        missing = [f for f in catalogue.measurements[measurement].fields if (measurement, f) not in measured]
        if missing:
            raise InventoryError(
                file, f"{where}.sensors", f"no sensor measures these fields of {measurement}", missing,
                ", ".join(catalogue.measurements[measurement].fields),
            )


def read_street_units(path: Path, profiles: Mapping[str, Profile]) -> dict[str, StreetUnit]:
    """Street units by id: ids unique, profiles of site `street`."""
    units: dict[str, StreetUnit] = {}
    for file, where, raw in entries(path, "street_units", "units"):
        check_profile_ref(file, f"{where}.profile", raw["profile"], profiles, "street")
        units[raw["id"]] = StreetUnit(
            raw["id"], raw["district"], float(raw["lon"]), float(raw["lat"]), raw["profile"],
            read_date(file, f"{where}.installed", raw["installed"]),
        )
    return units


def read_schools(path: Path, profiles: Mapping[str, Profile]) -> dict[str, School]:
    """Schools by id: ids unique, room and meter ids unique within a school, profiles of the right site."""
    schools: dict[str, School] = {}
    for file, where, raw in entries(path, "schools", "schools"):
        points: dict[str, str] = {}
        for j, room in enumerate(raw["rooms"]):
            check_unique(file, f"{where}.rooms[{j}].id", room["id"], points)
            check_profile_ref(file, f"{where}.rooms[{j}].profile", room["profile"], profiles, "school_room")
        for j, meter in enumerate(raw["meters"]):
            check_unique(file, f"{where}.meters[{j}].id", meter["id"], points)
            check_profile_ref(file, f"{where}.meters[{j}].profile", meter["profile"], profiles, "school_meter")
        outdoor = raw["outdoor"]["profile"]
        check_profile_ref(file, f"{where}.outdoor.profile", outdoor, profiles, "school_outdoor")
        check_main_meters(file, where, raw["meters"], profiles)
        hours = read_opening_hours(file, f"{where}.opening_hours", raw["opening_hours"])
        schools[raw["id"]] = School(
            raw["id"], raw["name"], raw["level"], raw["pupils"], float(raw["floor_area_m2"]), raw["district"],
            float(raw["lon"]), float(raw["lat"]),
            rooms=tuple(Room(r["id"], r["name"], r["profile"]) for r in raw["rooms"]),
            meters=tuple(Meter(m["id"], m["profile"], m["description"], m["role"]) for m in raw["meters"]),
            outdoor_profile=outdoor,
            opening_hours=hours,
            heating_system=raw["heating"]["system"],
        )
    return schools


def read_opening_hours(file: str, where: str, raw: Mapping[str, Any]) -> dict[str, tuple[str, str] | None]:
    """Opening hours by weekday; each open day's closing time after its opening time."""
    hours: dict[str, tuple[str, str] | None] = {}
    for day, span in raw.items():
        if span is not None and span[0] >= span[1]:
            raise InventoryError(file, f"{where}.{day}", "closing time not after opening time", span,
                                 '["HH:MM", "HH:MM"] with the second later, or null')
        hours[day] = tuple(span) if span is not None else None
    return hours


def check_main_meters(file: str, where: str, meters: list[Mapping[str, Any]], profiles: Mapping[str, Profile]) -> None:
    """Exactly one meter with role `main` for each measurement the school's meters report."""
    mains: dict[str, list[str]] = {}
    for meter in meters:
        for measurement in profiles[meter["profile"]].measurements:
            mains.setdefault(measurement, [])
            if meter["role"] == "main":
                mains[measurement].append(meter["id"])
    for measurement, ids in mains.items():
        if len(ids) != 1:
            raise InventoryError(file, f"{where}.meters", f"{len(ids)} meters with role main for {measurement}",
                                 ids, f"exactly one meter with role main per measurement ({measurement})")


def read_beacons(path: Path, units: Mapping[str, StreetUnit]) -> dict[str, Beacon]:
    """Beacons by id: ids and iBeacon / Eddystone-UID identities unique, host units existing."""
    beacons: dict[str, Beacon] = {}
    identities: dict[tuple, str] = {}
    for file, where, raw in entries(path, "beacons", "beacons"):
        if raw["host_unit"] not in units:
            raise InventoryError(
                file, f"{where}.host_unit", "no such street unit", raw["host_unit"],
                "a unit id of street_units.json, e.g. TO-SU-0001",
            )
        ibeacon, eddystone = raw.get("ibeacon"), raw.get("eddystone")
        if ibeacon:
            identity = ("ibeacon", ibeacon["uuid"], ibeacon["major"], ibeacon["minor"])
            check_unique(file, f"{where}.ibeacon", identity, identities, "iBeacon uuid/major/minor")
        if eddystone:
            identity = ("eddystone", eddystone["namespace"], eddystone["instance"])
            check_unique(file, f"{where}.eddystone", identity, identities, "Eddystone namespace/instance")
        beacons[raw["id"]] = Beacon(
            raw["id"], raw["host_unit"], float(raw["lon"]), float(raw["lat"]), raw["content_id"], raw["model"],
            raw["advertising_interval_ms"], raw["battery"]["type"], raw["battery"]["nominal_mv"],
            read_date(file, f"{where}.installed", raw["installed"]),
            ibeacon_uuid=ibeacon["uuid"] if ibeacon else None,
            ibeacon_major=ibeacon["major"] if ibeacon else None,
            ibeacon_minor=ibeacon["minor"] if ibeacon else None,
            eddystone_namespace=eddystone["namespace"] if eddystone else None,
            eddystone_instance=eddystone["instance"] if eddystone else None,
        )
    return beacons


def entries(path: Path, schema_name: str, key: str) -> Iterator[tuple[str, str, dict]]:
    """(file, path inside it, entry) for each entry of list `key` in a valid document; ids checked unique."""
    file, document = read_document(path, schema_name)
    first_seen: dict[str, str] = {}
    for i, raw in enumerate(document[key]):
        where = f"{key}[{i}]"
        check_unique(file, f"{where}.id", raw["id"], first_seen)
        yield file, where, raw


def check_unique(file: str, where: str, value: Any, first_seen: dict, what: str = "id") -> None:
    """Raise unless `value` is new; remember where it was first seen."""
    if value in first_seen:
        raise InventoryError(file, where, f"duplicate {what}, already used at {first_seen[value]}", value)
    first_seen[value] = where


def check_profile_ref(file: str, where: str, profile_id: str, profiles: Mapping[str, Profile], site: str) -> None:
    """Raise unless `profile_id` names a profile of `site`."""
    fitting = ", ".join(p.id for p in profiles.values() if p.site == site)
    if profile_id not in profiles:
        raise InventoryError(file, where, "no such profile in profiles.yaml", profile_id, fitting)
    if profiles[profile_id].site != site:
        raise InventoryError(
            file, where, f"profile is for site {profiles[profile_id].site}, this place needs {site}", profile_id,
            fitting,
        )


def read_date(file: str, where: str, text: str) -> dt.date:
    """An ISO calendar date, or `InventoryError`."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InventoryError(file, where, "not a calendar date", text, "YYYY-MM-DD") from None


def json_path(parts: Iterable[str | int]) -> str:
    """Readable path inside a document: ["units", 3, "id"] -> "units[3].id"."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def display_name(path: Path) -> str:
    """The file as a person finds it: relative to the repository when it lies inside it."""
    try:
        return str(path.resolve().relative_to(paths.ROOT))
    except ValueError:
        return str(path)
