"""Unit conversion into the catalogue's canonical units: a small table, pure functions.

Keys of `CONVERSIONS` are the canonical units used in schemas/catalogue.yaml;
each maps the units a device may send instead to `(scale, offset)`, so that
`canonical = value * scale + offset`. Unit symbols are SenML's (RFC 8428, the
secondary units of RFC 8798); `mg/m3` is not a registered SenML unit but is
the catalogue's unit for CO, so it is accepted and converted like the others.

SenML `/` and `%` are both ratios (0-1): the SenML Units registry of RFC 8428
lists `%` as "1 (ratio e.g., value of a switch)", kept for existing devices.
A percentage is the secondary unit `/100` (RFC 8798). So relative humidity
sent as `/` or `%` is multiplied by 100, and `/100` is taken as is.
"""

from __future__ import annotations

import math

from iotorino.core.errors import Rejected

# canonical unit -> {unit sent: (scale, offset)}
CONVERSIONS: dict[str, dict[str, tuple[float, float]]] = {
    "Cel": {"Cel": (1.0, 0.0), "K": (1.0, -273.15)},
    "%RH": {"%RH": (1.0, 0.0), "/100": (1.0, 0.0), "%": (100.0, 0.0), "/": (100.0, 0.0)},
    "hPa": {"hPa": (1.0, 0.0), "Pa": (0.01, 0.0)},
    "kWh": {"kWh": (1.0, 0.0), "Wh": (0.001, 0.0), "J": (1 / 3.6e6, 0.0)},
    "W": {"W": (1.0, 0.0), "kW": (1000.0, 0.0)},
    "ug/m3": {"ug/m3": (1.0, 0.0), "mg/m3": (1000.0, 0.0), "kg/m3": (1e9, 0.0)},
    "mg/m3": {"mg/m3": (1.0, 0.0), "ug/m3": (0.001, 0.0), "kg/m3": (1e6, 0.0)},
    "ppm": {"ppm": (1.0, 0.0)},
    "dB": {"dB": (1.0, 0.0)},
    "m/s": {"m/s": (1.0, 0.0), "km/h": (1 / 3.6, 0.0)},
    "deg": {"deg": (1.0, 0.0), "rad": (180 / math.pi, 0.0)},
    "mm": {"mm": (1.0, 0.0), "cm": (10.0, 0.0), "m": (1000.0, 0.0)},
}

# RFC 8798 secondary units: a SenML pack may use them only with the
# "secondary units" feature in its version (RFC 9100, feature code 4).
SECONDARY_UNITS = frozenset({"/100", "hPa", "kWh", "Wh", "kW", "ug/m3", "ppm", "km/h", "cm", "mm"})

# Significant digits kept after a conversion: drops binary noise (293.15 K ->
# 20.0 Cel, not 19.999999999999968) far below any sensor's resolution.
_DIGITS = 12


def accepted_units(canonical: str) -> list[str]:
    """The units convertible into `canonical`, the canonical one first."""
    return list(CONVERSIONS.get(canonical, {canonical: (1.0, 0.0)}))


def to_canonical(value: float, unit: str, canonical: str, field: str) -> float:
    """`value` given in `unit`, expressed in `canonical`; `Rejected('unit')` names field, unit and the accepted ones."""
    scale, offset = CONVERSIONS.get(canonical, {canonical: (1.0, 0.0)}).get(unit, (None, None))
    if scale is None:
        raise Rejected("unit", f"unit {unit!r} cannot be converted to {canonical}", field=field, value=unit,
                       accepted=", ".join(accepted_units(canonical)))
    if scale == 1.0 and offset == 0.0:
        return value
    return float(f"{value * scale + offset:.{_DIGITS}g}")
