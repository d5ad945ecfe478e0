"""What each device should send: reporting intervals from the inventory (`iotorino.core.inventory`).

Completeness needs the interval a device's profile promises for a measurement.
A lookup takes a series' tags (unit; or school with room/meter) and answers
seconds, or None when the inventory does not know the device (completeness
then stays empty rather than guessed).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

IntervalLookup = Callable[[Mapping[str, str]], "int | None"]


def load_inventory() -> Any | None:
    """The project's inventory, or None when `iotorino.core.inventory` is not installed."""
    try:
        from iotorino.core import inventory
    except ImportError:
        return None
    return inventory.default()


def intervals(inventory: Any | None, site: str, measurement: str) -> IntervalLookup:
    """Series tags → reporting interval (s) of `measurement` for a catalogue `site` (street or school)."""
    if inventory is None or site not in ("street", "school"):
        return lambda tags: None
    table: dict[tuple[str, str], int | None] = {}
    if site == "street":
        for unit in _items(inventory.street_units):
            table[(unit.id, "")] = _interval(inventory, getattr(unit, "profile", None), measurement)
    else:
        for school in _items(inventory.schools):
            table[(school.id, "")] = _interval(inventory, getattr(school, "outdoor_profile", None), measurement)
            for part in (*_items(getattr(school, "rooms", ())), *_items(getattr(school, "meters", ()))):
                table[(school.id, part.id)] = _interval(inventory, getattr(part, "profile", None), measurement)

    def lookup(tags: Mapping[str, str]) -> int | None:
        if site == "street":
            return table.get((tags.get("unit", ""), ""))
        part = tags.get("room") or tags.get("meter") or ""
        return table.get((tags.get("school", ""), part))

    return lookup


def _items(items: Iterable[Any] | Mapping[str, Any]) -> list[Any]:
    return list(items.values()) if isinstance(items, Mapping) else list(items or ())


def _interval(inventory: Any, profile: Any, measurement: str) -> int | None:
    if isinstance(profile, str):
        profiles = inventory.profiles
        profile = profiles.get(profile) if isinstance(profiles, Mapping) else {p.id: p for p in profiles}.get(profile)
    return profile.interval_s(measurement) if profile is not None else None
