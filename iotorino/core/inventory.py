"""The fleet as data: device profiles, street units, schools and beacons from hardware/.

`load()` reads hardware/profiles.yaml, street_units.json, schools.json and
beacons.json (`iotorino.core.inventory_files`), validates each against its
JSON Schema in schemas/, cross-checks them with each other and with the
measurement catalogue, and returns a frozen `Inventory` (the model lives in
`iotorino.core.fleet` and is re-exported here). Errors in the files raise
`InventoryError`, naming the file, the path inside it and the value.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping

from iotorino.core import catalogue as measurement_catalogue
from iotorino.core import paths, sites
from iotorino.core.catalogue import Catalogue
from iotorino.core.fleet import (SITE_TAGS, Beacon, Inventory, InventoryError, Meter, Profile, Quantity, Room,
                                 School, Sensor, StreetUnit, school_devices)
from iotorino.core.inventory_files import read_inventory
from iotorino.core.sites import ID_PATTERN, OUTDOOR, DeviceRef

__all__ = [
    "ID_PATTERN", "OUTDOOR", "SITE_TAGS", "Beacon", "DeviceRef", "Inventory", "InventoryError", "Meter", "Profile",
    "Quantity", "Room", "School", "Sensor", "StreetUnit", "default", "load", "reporting_intervals", "school_devices",
]

IntervalLookup = Callable[[Mapping[str, str]], "int | None"]


def load(root: Path = paths.HARDWARE, catalogue: Catalogue | None = None) -> Inventory:
    """Read, validate and cross-check the inventory in `root`; raise `InventoryError` on any problem."""
    return read_inventory(root, catalogue or measurement_catalogue.default())


@lru_cache(maxsize=1)
def default() -> Inventory:
    """The project's inventory (hardware/), loaded once per process."""
    return load()


def reporting_intervals(inventory: Inventory | None, site: str, measurement: str) -> IntervalLookup:
    """Series tags → the reporting interval (s) of `measurement` that the device's profile promises, for a
    catalogue `site` (street or school); None for a device the inventory does not know."""
    if inventory is None or site not in sites.topic_sites(profiled=True):
        return lambda tags: None
    table = {
        device.label: inventory.profiles[device.profile].interval_s(measurement)
        for device in inventory.devices()
        if device.kind.topic_site == site
    }
    return lambda tags: table.get(sites.label_of(tags))
