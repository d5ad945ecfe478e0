"""SenML JSON packs (RFC 8428) on `iotorino/senml/...` topics, into readings in canonical units.

    iotorino/senml/street/{unit_id}
    iotorino/senml/school/{school_id}/{point}        point: room id, meter id or "outdoor"

    [{"bn": "urn:dev:iotorino:TO-SU-0001:", "bt": 1.7949951e9, "bu": "Cel", "bver": 26},
     {"n": "weather/temperature", "v": 12.5},
     {"n": "atmospheric_pressure", "u": "hPa", "v": 1013.2}]

The topic names the device, as on the native topics. A record's name is
resolved as `bn + n`; whatever comes up to its last `:` is the device's own
name (for example a `urn:dev:` URN) and is not interpreted. The rest is
`{measurement}/{field}`, or just `{field}` when exactly one measurement of the
device's profile has that field. Records of the same measurement and time
become one reading.

Base fields (`bn bt bu bv`) apply from their record until a later record sets
them again; time is `bt + t`, a resolved time below 2**28 is seconds relative
to the receive time (the point is then tagged `time_source=receive`, as it
cannot be deduplicated), and no time at all means "now". Units are converted
into the catalogue's (iotorino.core.units); a record without a unit is
taken to be in the canonical unit already. `bver` must be 10 (RFC 8428) or 26
(with RFC 9100's secondary units, required for `hPa`, `kWh`, `ug/m3`, ...).
Only numbers (`v`) and booleans (`vb`) are stored; string and data values,
sum-only records and must-understand fields (names ending in `_`) are rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from iotorino.core import units
from ingest.mqtt.formats.context import DecodeContext
from ingest.mqtt.formats.native import FALLBACK_TAG
from iotorino.core.contract import parse_json
from iotorino.core.times import parse_time
from iotorino.core.errors import Rejected
from iotorino.core.inventory import Profile
from iotorino.core.reading import Reading

PREFIX = "iotorino/senml/"
RELATIVE_LIMIT_S = 2**28  # resolved times below this are relative to now (RFC 8428, section 4.5.3)
VERSION = 10  # RFC 8428
SECONDARY_UNITS_FEATURE = 1 << 4  # RFC 9100, feature code 4
_SUPPORTED_VERSIONS = (VERSION, VERSION | SECONDARY_UNITS_FEATURE)
_LARGEST = 1e300  # bound on any number in a pack; keeps sums and conversions finite
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-:./_]*")


@dataclass
class _Base:
    """The base fields in force at the current record."""

    name: str = ""
    time: float = 0.0
    unit: str | None = None
    value: float = 0.0
    version: int | None = None


def decode(topic: str, payload: bytes, context: DecodeContext) -> list[Reading]:
    """Readings from one SenML pack; `Rejected` names the record's name, the field and the value."""
    site, site_id, point = parse_topic(topic)
    profile = context.inventory.profile_of(site, site_id, point)
    pack = parse_json(payload)
    if not isinstance(pack, list) or not pack:
        raise Rejected("schema", "a SenML pack is a non-empty JSON array of records", field="payload",
                       value=pack, accepted='[{"n": "<field>", "v": <number>}, ...]')
    base = _Base()
    # (measurement, time_ns, relative) -> fields
    groups: dict[tuple[str, int, bool], dict[str, object]] = {}
    for index, record in enumerate(pack):
        if not isinstance(record, dict):
            raise Rejected("schema", "a SenML record is a JSON object", field=f"record {index}", value=record,
                           accepted="an object with n, v, u, t and base fields")
        _apply_base(record, base, index)
        name = base.name + _typed(record, "n", str, "", index)
        measurement, field = _resolve(name, profile, context)
        value = _value(record, base, name)
        canonical = context.catalogue.measurement(measurement).fields[field].unit
        unit = _typed(record, "u", str, base.unit, index)
        if unit is not None and not isinstance(value, bool):
            if unit in units.SECONDARY_UNITS and not (base.version or VERSION) & SECONDARY_UNITS_FEATURE:
                raise Rejected("unsupported_version", f"{unit} is a SenML secondary unit (RFC 8798)",
                               field=name, value=unit, accepted="bver 26 in the pack's first record")
            value = units.to_canonical(value, unit, canonical, name)
        time = base.time + _number(record, "t", 0.0, name)
        relative = time < RELATIVE_LIMIT_S
        if time < -RELATIVE_LIMIT_S:
            raise Rejected("bad_time", "relative time more than 2**28 s (8.5 years) before now", field=f"{name} bt + t",
                           value=time, accepted=f"a relative time from {-RELATIVE_LIMIT_S} s, or Unix seconds")
        time_ns = context.received_ns + round(time * 1e9) if relative else parse_time(time, field=f"{name} bt + t")
        fields = groups.setdefault((measurement, time_ns, relative), {})
        if field in fields:
            raise Rejected("schema", "the same field twice at the same time", field=name, value=value,
                           accepted="one record per field and time")
        fields[field] = value
    readings = []
    for (measurement, time_ns, relative), fields in groups.items():
        tags = context.inventory.tags_for(site, site_id, point, measurement)
        if relative:
            tags = {**tags, FALLBACK_TAG[0]: FALLBACK_TAG[1]}
        # Relative time 0 (no time at all): the receive time stands in for the device's.
        fallback = relative and time_ns == context.received_ns
        readings.append(Reading(measurement, tags, fields, time_ns, time_is_fallback=fallback))
    return readings


def parse_topic(topic: str) -> tuple[str, str, str | None]:
    """(site, site id, point) from a SenML topic; `Rejected('unknown_topic')` otherwise."""
    parts = topic[len(PREFIX):].split("/") if topic.startswith(PREFIX) else []
    if len(parts) == 2 and parts[0] == "street" and parts[1]:
        return "street", parts[1], None
    if len(parts) == 3 and parts[0] == "school" and all(parts):
        return "school", parts[1], parts[2]
    raise Rejected("unknown_topic", "topic outside the SenML contract", field="topic", value=topic,
                   accepted=PREFIX + "street/{unit_id} or " + PREFIX + "school/{school_id}/{point}")


def _apply_base(record: dict, base: _Base, index: int) -> None:
    """Update the base fields a record sets; reject must-understand extensions and bad versions."""
    for key in record:
        if key.endswith("_"):
            raise Rejected("schema", "must-understand SenML field not supported", field=key, value=record[key],
                           accepted="bn bt bu bv bs bver n u v vs vb vd s t ut")
    base.name = _typed(record, "bn", str, base.name, index)
    base.time = _number(record, "bt", base.time, f"record {index}")
    base.unit = _typed(record, "bu", str, base.unit, index)
    base.value = _number(record, "bv", base.value, f"record {index}")
    if "bver" in record:
        version = record["bver"]
        if version not in _SUPPORTED_VERSIONS or isinstance(version, bool) or (
                base.version is not None and version != base.version):
            raise Rejected("unsupported_version", "SenML version not supported, or changed within the pack",
                           field="bver", value=version,
                           accepted=" or ".join(map(str, _SUPPORTED_VERSIONS)) + ", the same in every record")
        base.version = version


def _resolve(name: str, profile: Profile, context: DecodeContext) -> tuple[str, str]:
    """(measurement, field) named by a resolved SenML name, against the device's profile."""
    if not _NAME.fullmatch(name):
        raise Rejected("schema", "not a valid SenML name (bn + n)", field="n", value=name,
                       accepted="letters, digits and - : . / _, starting with a letter or digit")
    local = name.rsplit(":", 1)[-1]
    fields_of = {m: context.catalogue.measurement(m).fields for m in profile.measurements}
    if "/" in local:
        measurement, field = local.split("/", 1)
        if measurement not in fields_of:
            raise Rejected("not_in_profile", f"profile {profile.id} does not report this measurement",
                           field=name, value=measurement, accepted=", ".join(fields_of))
        if field not in fields_of[measurement]:
            raise Rejected("unknown_field", f"{measurement} has no such field", field=name, value=field,
                           accepted=", ".join(fields_of[measurement]))
        return measurement, field
    owners = [m for m, fields in fields_of.items() if local in fields]
    if len(owners) != 1:
        problem = "no measurement of the profile has this field" if not owners else "field name is ambiguous"
        accepted = (", ".join(f"{m}/{local}" for m in owners) if owners
                    else ", ".join(f for fields in fields_of.values() for f in fields))
        raise Rejected("unknown_field", f"{problem} (profile {profile.id})", field=name, value=local, accepted=accepted)
    return owners[0], local


def _value(record: dict, base: _Base, name: str) -> float | int | bool:
    """The record's value: `bv + v`, or `vb`; other kinds of value are rejected."""
    present = [key for key in ("v", "vb", "vs", "vd") if key in record]
    if len(present) != 1:
        problem = "a sum-only record is not stored" if not present and "s" in record else "needs exactly one value"
        raise Rejected("schema", f"record {problem}", field=name, value={k: record[k] for k in present} or None,
                       accepted="one of v (number) or vb (boolean)")
    key = present[0]
    if key == "vb":
        if not isinstance(record["vb"], bool):
            raise Rejected("type", "vb must be a boolean", field=name, value=record["vb"], accepted="true or false")
        return record["vb"]
    if key in ("vs", "vd"):
        raise Rejected("type", f"{'string' if key == 'vs' else 'data'} values are not stored", field=name,
                       value=record[key], accepted="a number (v) or a boolean (vb)")
    value = _number(record, "v", 0.0, name)
    return base.value + value if base.value else value


def _number(record: dict, key: str, default: float, name: str) -> float:
    """A finite number at `key`, `default` when absent."""
    value = record.get(key, default)
    # The comparison also refuses NaN, infinities and integers too large for a float.
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -_LARGEST <= value <= _LARGEST:
        raise Rejected("type", f"SenML {key} must be a number", field=f"{name} {key}", value=value,
                       accepted="a finite JSON number")
    return value


def _typed(record: dict, key: str, kind: type, default, index: int):
    """The value at `key` if it has type `kind`, `default` when absent."""
    if key not in record:
        return default
    if not isinstance(record[key], kind):
        raise Rejected("schema", f"SenML {key} must be a {kind.__name__}", field=f"record {index} {key}",
                       value=record[key], accepted=f"a JSON {'string' if kind is str else kind.__name__}")
    return record[key]
