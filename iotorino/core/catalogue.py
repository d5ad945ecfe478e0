"""The measurement catalogue (schemas/catalogue.yaml), loaded once and used to validate readings.

Everything that needs a measurement's tags, fields, units or plausible ranges
asks this module; nothing restates them in code.

Field-level quarantine: a reading whose fields are partly invalid (an
unknown name, a wrong type, a value outside the plausible range) keeps its
valid fields; each invalid value is set aside as a `Rejected` naming the
measurement, the field, the value and the accepted range, which the
collector commits to the dead letters. The stored reading then carries
`quarantined_values`, the number of values set aside, so the data-quality
report can count them from the store. A measurement whose catalogue entry says
`invalid_fields: reject_message` is all or nothing instead: one invalid
field rejects the whole message (for fields that only make sense together).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import yaml

from iotorino.core import paths
from iotorino.core.errors import ConfigError, Rejected
from iotorino.core.reading import Reading

# The field a stored reading gets when some of its message's values were set aside (an integer count).
QUARANTINED_FIELD = "quarantined_values"
# What a measurement does with a message whose fields are partly invalid (catalogue key `invalid_fields`).
QUARANTINE, REJECT_MESSAGE = "quarantine", "reject_message"
# How a field's values average (catalogue key `average`): arithmetic, or energetic for levels in
# decibels, 10·lg(mean(10^(L/10))), the level of the steady sound carrying the same energy.
ARITHMETIC, ENERGETIC = "arithmetic", "energetic"
AVERAGES = (ARITHMETIC, ENERGETIC)


@dataclass(frozen=True)
class FieldSpec:
    """One field of a measurement: its canonical unit and plausible range."""

    name: str
    unit: str
    label: str
    low: float
    high: float
    kind: str  # "gauge" or "counter"
    type: str  # "float", "integer" or "boolean"
    fiware: str
    description: str
    average: str = ARITHMETIC  # ARITHMETIC or ENERGETIC: how means of the field's values are taken


@dataclass(frozen=True)
class MeasurementSpec:
    """One measurement: the kind of site reporting it, its tag keys and its fields."""

    name: str
    site: str
    fiware_entity: str
    description: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldSpec]
    invalid_fields: str = QUARANTINE  # QUARANTINE or REJECT_MESSAGE


@dataclass(frozen=True, slots=True)
class Checked:
    """A reading's valid part and the values set aside: `reading` holds the valid fields (plus
    `quarantined_values` when `rejected` is not empty); `rejected` has one `Rejected` per invalid value."""

    reading: Reading
    rejected: tuple[Rejected, ...] = ()


@dataclass(frozen=True)
class Catalogue:
    """All measurements, by name."""

    measurements: Mapping[str, MeasurementSpec]

    def measurement(self, name: str) -> MeasurementSpec:
        """The spec of measurement `name`; `Rejected('unknown_measurement')` if there is none."""
        try:
            return self.measurements[name]
        except KeyError:
            raise Rejected(
                "unknown_measurement",
                "measurement is not in the catalogue",
                field="measurement",
                value=name,
                accepted=", ".join(sorted(self.measurements)),
            ) from None

    def energetic_fields(self, measurement: str) -> frozenset[str]:
        """The fields of `measurement` whose means are energetic (`average: energetic`); none for an unknown one."""
        spec = self.measurements.get(measurement)
        return frozenset(f for f, s in spec.fields.items() if s.average == ENERGETIC) if spec else frozenset()

    def validate(self, reading: Reading) -> Reading:
        """`reading` with its values in the field types, if every field is known and in range.

        Integers sent for float fields become floats (InfluxDB would otherwise
        refuse later points of the other type); anything else raises `Rejected`.
        """
        spec = self.measurement(reading.measurement)
        if not reading.fields:
            raise Rejected("empty", "the message carries no field values", field="fields", value={})
        for key, value in reading.fields.items():
            field = spec.fields.get(key)
            if field is None:
                raise Rejected(
                    "unknown_field",
                    f"{reading.measurement} has no such field",
                    field=key,
                    value=value,
                    accepted=", ".join(spec.fields),
                )
            check_value(field, value)
        if any(type(v) is not _PYTHON_TYPE[spec.fields[k].type] for k, v in reading.fields.items()):
            fields = {k: _PYTHON_TYPE[spec.fields[k].type](v) for k, v in reading.fields.items()}
            return replace(reading, fields=fields)
        return reading


    def check(self, reading: Reading) -> Checked:
        """`reading`'s valid fields in their types and its invalid values set aside (module docstring).

        Raises `Rejected` for the whole message when the measurement is
        unknown, the reading has no fields, or the measurement says
        `invalid_fields: reject_message` and a field is invalid.
        """
        spec = self.measurement(reading.measurement)
        if spec.invalid_fields == REJECT_MESSAGE or not reading.fields:
            return Checked(self.validate(reading))
        kept: dict[str, object] = {}
        rejected: list[Rejected] = []
        converted = False
        for key, value in reading.fields.items():
            field = spec.fields.get(key)
            try:
                if field is None:
                    raise Rejected("unknown_field", f"{reading.measurement} has no such field", field=key,
                                   value=value, accepted=", ".join(spec.fields))
                check_value(field, value)
            except Rejected as invalid:
                rejected.append(Rejected(invalid.reason, f"{reading.measurement}.{key}: {invalid.detail}; value"
                                         " quarantined, the message's valid fields are stored", field=invalid.field,
                                         value=invalid.value, accepted=invalid.accepted))
                continue
            wanted = _PYTHON_TYPE[field.type]
            converted |= type(value) is not wanted  # an integer sent for a float field becomes a float
            kept[key] = wanted(value)
        if not rejected:
            return Checked(replace(reading, fields=kept) if converted else reading)
        kept[QUARANTINED_FIELD] = len(rejected)
        return Checked(replace(reading, fields=kept), tuple(rejected))


_PYTHON_TYPE = {"float": float, "integer": int, "boolean": bool}


def check_value(field: FieldSpec, value: object) -> None:
    """Raise `Rejected` unless `value` has the field's type and lies in its plausible range."""
    if field.type == "boolean":
        if not isinstance(value, bool):
            raise Rejected("type", "expected a boolean", field=field.name, value=value, accepted="true or false")
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Rejected("type", "expected a number", field=field.name, value=value, accepted=f"a number in {field.unit}")
    if field.type == "integer" and isinstance(value, float) and not value.is_integer():
        raise Rejected("type", "expected a whole number", field=field.name, value=value, accepted="an integer")
    # Compared without converting to float: a JSON integer may be too large for one.
    if value != value or not field.low <= value <= field.high:
        raise Rejected(
            "out_of_range",
            "value outside the plausible range",
            field=field.name,
            value=value,
            accepted=f"{field.low:g} to {field.high:g} {field.unit}",
        )


def load(path: Path | None = None) -> Catalogue:
    """Parse a catalogue file (default: schemas/catalogue.yaml)."""
    raw = yaml.safe_load((path or paths.SCHEMAS / "catalogue.yaml").read_text(encoding="utf-8"))
    measurements = {}
    for name, m in raw["measurements"].items():
        fields = {
            fname: FieldSpec(
                name=fname,
                unit=f["unit"],
                label=f["label"],
                low=float(f["range"][0]),
                high=float(f["range"][1]),
                kind=f["kind"],
                type=f["type"],
                fiware=f["fiware"],
                description=f["description"],
                average=f.get("average", ARITHMETIC),
            )
            for fname, f in m["fields"].items()
        }
        for fname, f in fields.items():
            if f.average not in AVERAGES:
                raise ConfigError(f"measurements.{name}.fields.{fname}.average", f"unknown {f.average!r}", ", ".join(AVERAGES))
        if QUARANTINED_FIELD in fields:
            raise ConfigError(f"measurements.{name}.fields.{QUARANTINED_FIELD}",
                              "reserved: the collector's count of a message's quarantined values", "another name")
        measurements[name] = MeasurementSpec(
            name=name,
            site=m["site"],
            fiware_entity=m["fiware_entity"],
            description=m["description"],
            tags=dict(m["tags"]),
            fields=fields,
            invalid_fields=m.get("invalid_fields", QUARANTINE),
        )
    return Catalogue(measurements)


@lru_cache(maxsize=1)
def default() -> Catalogue:
    """The project's catalogue, loaded once per process."""
    return load()
