"""The measurement catalogue (schemas/catalogue.yaml), loaded once and used to validate readings.

Everything that needs a measurement's tags, fields, units or plausible ranges
asks this module; nothing restates them in code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import yaml

from iotorino.core import paths
from iotorino.core.errors import Rejected
from iotorino.core.reading import Reading


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


@dataclass(frozen=True)
class MeasurementSpec:
    """One measurement: the kind of site reporting it, its tag keys and its fields."""

    name: str
    site: str
    fiware_entity: str
    description: str
    tags: Mapping[str, str]
    fields: Mapping[str, FieldSpec]


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
            )
            for fname, f in m["fields"].items()
        }
        measurements[name] = MeasurementSpec(
            name=name,
            site=m["site"],
            fiware_entity=m["fiware_entity"],
            description=m["description"],
            tags=dict(m["tags"]),
            fields=fields,
        )
    return Catalogue(measurements)


@lru_cache(maxsize=1)
def default() -> Catalogue:
    """The project's catalogue, loaded once per process."""
    return load()
