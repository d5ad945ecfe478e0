"""The LoRaWAN device map (hardware/lorawan_devices.json): which inventory point a LoRaWAN device measures.

The Things Stack names a device by its end-device id, ChirpStack by its
DevEUI; either leads to a `LorawanDevice`: the site, site id and point of the
inventory (as on the native topics), the measurement it reports, and how its
payload codec's keys map to catalogue fields. `load()` validates the file
against schemas/lorawan_devices.schema.json and cross-checks it with the
inventory and the catalogue; problems raise `InventoryError` naming the path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from iotorino.core import catalogue as measurement_catalogue
from iotorino.core import inventory as fleet
from iotorino.core import paths
from iotorino.core.catalogue import Catalogue
from iotorino.core.errors import Rejected
from iotorino.core.inventory import Inventory, InventoryError

FILE = "lorawan_devices.json"


@dataclass(frozen=True)
class LorawanDevice:
    """One end device: its ids, the inventory point it measures, and its codec key renames."""

    device_id: str  # The Things Stack end-device id
    dev_eui: str  # 16 lower-case hex digits
    network: str  # "ttn" | "chirpstack"
    model: str
    site: str  # "street" | "school"
    site_id: str
    point: str | None
    measurement: str
    # codec key -> catalogue field; None: the key is known and not stored
    fields: Mapping[str, str | None] = field(default_factory=dict)

    def rename(self, decoded: Mapping[str, object]) -> dict[str, object]:
        """The codec's output as catalogue fields: keys renamed, null-mapped keys dropped, the rest kept."""
        renamed: dict[str, object] = {}
        for key, value in decoded.items():
            target = self.fields.get(key, key)
            if target is not None:
                renamed[target] = value
        return renamed


@dataclass(frozen=True)
class LorawanMap:
    """All LoRaWAN devices, found by TTN device id or by DevEUI."""

    by_device_id: Mapping[str, LorawanDevice]
    by_dev_eui: Mapping[str, LorawanDevice]

    def ttn_device(self, device_id: str) -> LorawanDevice:
        """The device registered on The Things Stack as `device_id`; `Rejected('unknown_device')` otherwise."""
        device = self.by_device_id.get(device_id)
        if device is None or device.network != "ttn":
            raise Rejected("unknown_device", "no The Things Stack device with this id in the LoRaWAN device map",
                           field="device_id", value=device_id, accepted=f"a ttn device_id of hardware/{FILE}")
        return device

    def chirpstack_device(self, dev_eui: str) -> LorawanDevice:
        """The device registered on ChirpStack with `dev_eui` (any case); `Rejected('unknown_device')` otherwise."""
        device = self.by_dev_eui.get(dev_eui.lower())
        if device is None or device.network != "chirpstack":
            raise Rejected("unknown_device", "no ChirpStack device with this DevEUI in the LoRaWAN device map",
                           field="dev_eui", value=dev_eui, accepted=f"a chirpstack dev_eui of hardware/{FILE}")
        return device


def load(root: Path = paths.HARDWARE, inventory: Inventory | None = None,
         catalogue: Catalogue | None = None) -> LorawanMap:
    """Read, validate and cross-check hardware/lorawan_devices.json; raise `InventoryError` on any problem."""
    from iotorino.core.inventory_files import read_document

    catalogue = catalogue or measurement_catalogue.default()
    inventory = inventory or fleet.default()
    file, document = read_document(root / FILE, "lorawan_devices")
    by_id: dict[str, LorawanDevice] = {}
    by_eui: dict[str, LorawanDevice] = {}
    for i, raw in enumerate(document["devices"]):
        where = f"devices[{i}]"
        device = LorawanDevice(**{**raw, "model": raw.get("model", ""),
                                  "fields": MappingProxyType(dict(raw.get("fields", {})))})
        for index, key, value in ((by_id, "device_id", device.device_id), (by_eui, "dev_eui", device.dev_eui)):
            if value in index:
                raise InventoryError(file, f"{where}.{key}", "used by two devices", value)
            index[value] = device
        try:
            inventory.tags_for(device.site, device.site_id, device.point, device.measurement)
        except Rejected as exc:
            raise InventoryError(file, where, f"not a point of the inventory ({exc.describe()})",
                                 [device.site, device.site_id, device.point, device.measurement]) from None
        known = catalogue.measurement(device.measurement).fields
        for key, target in device.fields.items():
            if target is not None and target not in known:
                raise InventoryError(file, f"{where}.fields.{key}", f"not a field of {device.measurement}", target,
                                     ", ".join(known))
    return LorawanMap(MappingProxyType(by_id), MappingProxyType(by_eui))


@lru_cache(maxsize=1)
def default() -> LorawanMap:
    """The project's LoRaWAN device map, loaded once per process."""
    return load()
