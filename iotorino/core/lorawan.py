"""The LoRaWAN device map (hardware/lorawan_devices.json): which inventory point a LoRaWAN device measures.

The Things Stack names a device by its end-device id, ChirpStack by its
DevEUI; either leads to a `LorawanDevice`: the site, site id and point of the
inventory (as on the native topics), the measurement it reports, and how its
payload codec's output names map to catalogue fields. `load()` validates the
file against schemas/lorawan_devices.schema.json and cross-checks it with the
inventory and the catalogue; problems raise `InventoryError` naming the path.

Field maps need no code. A device model (`models` in the file) says once how
its vendor codec's output names map to catalogue fields, and a device may
override single names (`fields` of the device). A name maps to a catalogue
field (`"LAeq": "laeq"`), to null (`"LAF": null`: known and not stored), or
to `{"field": ..., "scale": ..., "unit": ...}`: the value is multiplied by
`scale`, then converted from `unit` into the field's catalogue unit
(iotorino.core.units). Names not mapped pass through unchanged and must be
catalogue fields; anything else is quarantined as an unknown field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from iotorino.core import catalogue as measurement_catalogue
from iotorino.core import inventory as fleet
from iotorino.core import paths, units
from iotorino.core.catalogue import Catalogue
from iotorino.core.errors import Rejected
from iotorino.core.inventory import Inventory, InventoryError

FILE = "lorawan_devices.json"


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Where one codec output name goes: catalogue `field`, after `* scale` and conversion from `unit` (None: the
    catalogue's unit already)."""

    field: str
    scale: float = 1.0
    unit: str | None = None
    canonical: str | None = None  # the catalogue unit of `field`, set when `unit` is

    def apply(self, value: object) -> object:
        """`value` scaled and converted; a value that is not a number is left for the catalogue to quarantine."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return value
        if self.scale != 1.0:
            value = value * self.scale
        if self.unit is not None and self.canonical is not None:
            value = units.to_canonical(value, self.unit, self.canonical, self.field)
        return value


@dataclass(frozen=True)
class LorawanDevice:
    """One end device: its ids, the inventory point it measures, and its codec output map (model's and own)."""

    device_id: str  # The Things Stack end-device id
    dev_eui: str  # 16 lower-case hex digits
    network: str  # "ttn" | "chirpstack"
    model: str
    site: str  # "street" | "school"
    site_id: str
    point: str | None
    measurement: str
    # codec output name -> where it goes; None: the name is known and not stored
    fields: Mapping[str, FieldMap | None] = field(default_factory=dict)

    def rename(self, decoded: Mapping[str, object]) -> dict[str, object]:
        """The codec's output as catalogue fields: names mapped (scaled, converted), null-mapped ones dropped,
        the rest kept as they are."""
        renamed: dict[str, object] = {}
        for key, value in decoded.items():
            if key not in self.fields:
                renamed[key] = value
            elif (target := self.fields[key]) is not None:
                renamed[target.field] = target.apply(value)
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
    models = document.get("models", {})
    by_id: dict[str, LorawanDevice] = {}
    by_eui: dict[str, LorawanDevice] = {}
    for i, raw in enumerate(document["devices"]):
        where = f"devices[{i}]"
        model = raw.get("model", "")
        for index, key in ((by_id, "device_id"), (by_eui, "dev_eui")):
            if raw[key] in index:
                raise InventoryError(file, f"{where}.{key}", "used by two devices", raw[key])
        try:
            inventory.tags_for(raw["site"], raw["site_id"], raw["point"], raw["measurement"])
            known = catalogue.measurement(raw["measurement"]).fields
        except Rejected as exc:
            raise InventoryError(file, where, f"not a point of the inventory ({exc.describe()})",
                                 [raw["site"], raw["site_id"], raw["point"], raw["measurement"]]) from None
        if model and model not in models and "fields" not in raw:
            raise InventoryError(file, f"{where}.model", "no such model in models, and no fields of its own", model,
                                 ", ".join(models))
        maps = {**_field_maps(models.get(model, {}).get("fields", {}), known, raw["measurement"], file,
                              f"models[{model!r}]"),
                **_field_maps(raw.get("fields", {}), known, raw["measurement"], file, where)}
        device = LorawanDevice(**{**raw, "model": model, "fields": MappingProxyType(maps)})
        by_id[device.device_id] = by_eui[device.dev_eui] = device
    return LorawanMap(MappingProxyType(by_id), MappingProxyType(by_eui))


def _field_maps(raw: Mapping[str, object], known: Mapping, measurement: str, file: Path,
                where: str) -> dict[str, FieldMap | None]:
    """The field maps of one `fields` object of the file, checked against the measurement's catalogue fields."""
    maps: dict[str, FieldMap | None] = {}
    for name, target in raw.items():
        path = f"{where}.fields.{name}"
        if target is None:
            maps[name] = None
            continue
        spec = target if isinstance(target, dict) else {"field": target}
        field_name = spec["field"]
        if field_name not in known:
            raise InventoryError(file, path, f"not a field of {measurement}", field_name, ", ".join(known))
        unit = spec.get("unit")
        canonical = known[field_name].unit
        if unit is not None and unit not in units.accepted_units(canonical):
            raise InventoryError(file, f"{path}.unit", f"cannot be converted to {canonical}, the unit of "
                                 f"{measurement}.{field_name}", unit, ", ".join(units.accepted_units(canonical)))
        maps[name] = FieldMap(field_name, float(spec.get("scale", 1.0)), unit, canonical if unit else None)
    return maps


@lru_cache(maxsize=1)
def default() -> LorawanMap:
    """The project's LoRaWAN device map, loaded once per process."""
    return load()
