"""What each device should send: reporting intervals from the inventory (`iotorino.core.inventory`).

Completeness needs the interval a device's profile promises for a measurement.
A lookup takes a series' tags, names the device by its one label
(`iotorino.core.sites.label_of`) and answers seconds, or None when the
inventory does not know the device (completeness then stays empty rather
than guessed).
"""

from __future__ import annotations

from iotorino.core.inventory import IntervalLookup, Inventory
from iotorino.core.inventory import reporting_intervals as intervals

__all__ = ["IntervalLookup", "intervals", "load_inventory"]


def load_inventory() -> Inventory:
    """The project's inventory (hardware/), parsed once per process."""
    from iotorino.core import inventory

    return inventory.default()
