"""Prices and emission factors per fuel (data/energy-tariffs.yaml), validated: € and kg CO₂e per kWh."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from iotorino.core import paths
from iotorino.core.errors import ConfigError
from iotorino.schools.energy import Tariff

TARIFFS = paths.ROOT / "data" / "energy-tariffs.yaml"
FUELS = ("electricity", "heat")


def parse(document: object, origin: str) -> dict[str, Tariff]:
    """Tariff per fuel; each value a number >= 0 with its source named."""
    if not isinstance(document, dict):
        raise ConfigError(origin, f"not a mapping: {type(document).__name__}", "fuel: {eur_per_kwh, ...}")
    tariffs = {}
    for fuel in FUELS:
        entry = document.get(fuel)
        if not isinstance(entry, dict):
            raise ConfigError(f"{origin}: {fuel}", "missing", "eur_per_kwh, price_source, kg_co2e_per_kwh, factor_source")
        for key in ("eur_per_kwh", "kg_co2e_per_kwh"):
            value = entry.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 10:
                raise ConfigError(f"{origin}: {fuel}.{key}", f"{value!r} is not a number per kWh", "0 <= value < 10")
        for key in ("price_source", "factor_source"):
            if not str(entry.get(key) or "").strip():
                raise ConfigError(f"{origin}: {fuel}.{key}", "missing", "the source of the value")
        tariffs[fuel] = Tariff(float(entry["eur_per_kwh"]), float(entry["kg_co2e_per_kwh"]))
    return tariffs


def load(path: Path = TARIFFS) -> dict[str, Tariff]:
    """The tariffs of `path`."""
    return parse(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)


@lru_cache(maxsize=1)
def default() -> dict[str, Tariff]:
    """The project's tariffs file, loaded once."""
    return load()
