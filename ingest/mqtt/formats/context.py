"""What a decoder may consult: the catalogue, the inventory and the receive time. No I/O."""

from __future__ import annotations

from dataclasses import dataclass

from iotorino.catalogue import Catalogue
from iotorino.inventory import Inventory


@dataclass(frozen=True, slots=True)
class DecodeContext:
    """Passed to every decoder; `received_ns` is the fallback time for payloads without one."""

    catalogue: Catalogue
    inventory: Inventory
    received_ns: int
