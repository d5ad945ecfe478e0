"""What a decoder may consult: the catalogue, the inventory, the LoRaWAN device map and the receive time. No I/O."""

from __future__ import annotations

from dataclasses import dataclass

from iotorino.core import lorawan
from iotorino.core.catalogue import Catalogue
from iotorino.core.inventory import Inventory
from iotorino.core.lorawan import LorawanMap


@dataclass(frozen=True, slots=True)
class DecodeContext:
    """Passed to every decoder; `received_ns` is the fallback time for payloads without one.

    `lorawan` is the LoRaWAN device map; None means the project's
    (hardware/lorawan_devices.json), loaded once on first use by a LoRaWAN format.
    """

    catalogue: Catalogue
    inventory: Inventory
    received_ns: int
    lorawan: LorawanMap | None = None

    def lorawan_devices(self) -> LorawanMap:
        """The LoRaWAN device map to look devices up in."""
        return self.lorawan if self.lorawan is not None else lorawan.default()
