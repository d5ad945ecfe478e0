"""What each device should send: reporting intervals from the inventory (`iotorino.inventory`).

Completeness needs the interval a device's profile promises for a measurement.
The inventory is asked once per export; a device it does not know gets None
(completeness then stays empty rather than guessed).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

IntervalLookup = Callable[[str], "int | None"]


def load_inventory() -> Any | None:
    """The project's inventory, or None when `iotorino.inventory` is not installed."""
    try:
        from iotorino import inventory
    except ImportError:
        return None
    return inventory.default()


def _by_id(items: Iterable[Any] | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(items, Mapping):
        return dict(items)
    return {item.id: item for item in items}


def _profile(inventory: Any, profile: Any) -> Any | None:
    if isinstance(profile, str):
        return _by_id(inventory.profiles).get(profile)
    return profile


def street_intervals(inventory: Any | None, measurement: str) -> IntervalLookup:
    """unit id → seconds between `measurement` readings per the unit's profile."""
    if inventory is None:
        return lambda unit_id: None
    table: dict[str, int | None] = {}
    for unit_id, unit in _by_id(inventory.street_units).items():
        profile = _profile(inventory, unit.profile)
        table[unit_id] = profile.interval_s(measurement) if profile is not None else None
    return table.get


def school_intervals(inventory: Any | None, measurement: str) -> IntervalLookup:
    """school id → seconds between `measurement` readings per the school's profile(s).

    Rooms and meters carry their own sensors; a school-level profile for them is
    looked up on `outdoor_profile` or on the room/meter entries when they name one.
    """
    if inventory is None:
        return lambda school_id: None
    table: dict[str, int | None] = {}
    for school_id, school in _by_id(inventory.schools).items():
        table[school_id] = _school_interval(inventory, school, measurement)
    return table.get


def _school_interval(inventory: Any, school: Any, measurement: str) -> int | None:
    candidates = [getattr(school, "outdoor_profile", None)]
    for group in (getattr(school, "rooms", ()) or (), getattr(school, "meters", ()) or ()):
        for entry in group.values() if isinstance(group, Mapping) else group:
            candidates.append(getattr(entry, "profile", None))
    for candidate in candidates:
        profile = _profile(inventory, candidate) if candidate is not None else None
        if profile is not None and measurement in getattr(profile, "measurements", ()):
            return profile.interval_s(measurement)
    return None
