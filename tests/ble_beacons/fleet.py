"""A small beacon registry for tests, with the interface of `iotorino.inventory` (beacons, lookups)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Beacon:
    """The registry's beacon record (fields as in hardware/beacons.json)."""

    id: str
    host_unit: str
    lon: float
    lat: float
    content_id: str
    model: str = "BlueCharm BC08"
    advertising_interval_ms: int = 1000
    battery_type: str = "CR2477"
    nominal_mv: int = 3000
    installed: str = "2025-05-01"
    ibeacon_uuid: str | None = None
    ibeacon_major: int | None = None
    ibeacon_minor: int | None = None
    eddystone_namespace: str | None = None
    eddystone_instance: str | None = None


class Registry:
    """Beacons by id plus the two lookups the gateway uses."""

    def __init__(self, beacons) -> None:
        self.beacons = {b.id: b for b in beacons}

    def beacon_by_ibeacon(self, uuid, major, minor):
        """The beacon with this iBeacon identity, or None."""
        return next((b for b in self.beacons.values()
                     if (b.ibeacon_uuid, b.ibeacon_major, b.ibeacon_minor) == (uuid, major, minor)), None)

    def beacon_by_eddystone(self, namespace, instance):
        """The beacon with this Eddystone-UID identity, or None."""
        return next((b for b in self.beacons.values()
                     if (b.eddystone_namespace, b.eddystone_instance) == (namespace, instance)), None)


# The Blue Charm reference iBeacon, registered in front of Porta Nuova.
PORTA_NUOVA = Beacon("bcn-0001", "su-001", 7.6784, 45.0621, "content-porta-nuova",
                     ibeacon_uuid="426c7565-4368-6172-6d42-6561636f6e73", ibeacon_major=3838, ibeacon_minor=4949)
# The reference Eddystone-UID, registered at Piazza Castello.
CASTELLO = Beacon("bcn-0002", "su-002", 7.6856, 45.0711, "content-castello",
                  eddystone_namespace="12345678901234678901", eddystone_instance="000000000001")
REGISTRY = Registry([PORTA_NUOVA, CASTELLO])


def moved_to(beacon: Beacon, lon: float, lat: float) -> Beacon:
    """`beacon` registered at another place."""
    return replace(beacon, lon=lon, lat=lat)
