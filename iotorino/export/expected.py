"""What each device should send: reporting intervals from the inventory (`iotorino.core.inventory`).

Completeness needs the interval a device's profile promises for a measurement.
A lookup takes a series' tags, names the device by its one label
(`iotorino.core.sites.label_of`) and answers seconds, or None when the
inventory does not know the device (completeness then stays empty rather
than guessed).
"""

from __future__ import annotations

from typing import Callable, Mapping

from iotorino.core import sites
from iotorino.core.inventory import Inventory

IntervalLookup = Callable[[Mapping[str, str]], "int | None"]


def load_inventory() -> Inventory:
    """The project's inventory (hardware/), parsed once per process."""
    from iotorino.core import inventory

    return inventory.default()


def intervals(inventory: Inventory | None, site: str, measurement: str) -> IntervalLookup:
    """Series tags → reporting interval (s) of `measurement` for a catalogue `site` (street or school)."""
    if inventory is None or site not in sites.topic_sites(profiled=True):
        return lambda tags: None
    table = {
        device.label: inventory.profiles[device.profile].interval_s(measurement)
        for device in inventory.devices()
        if device.kind.topic_site == site
    }
    return lambda tags: table.get(sites.label_of(tags))
