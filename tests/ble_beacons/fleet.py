"""A small beacon registry for tests, built from `iotorino.core.inventory`'s own types (beacons, lookups)."""

from __future__ import annotations

from datetime import date

from iotorino.core.inventory import Beacon, Inventory


def beacon(beacon_id: str, host_unit: str, lon: float, lat: float, content_id: str, **identity) -> Beacon:
    """A Blue Charm BC08 (1 s interval, CR2477 at 3000 mV) with the iBeacon and/or Eddystone `identity`."""
    ids = {"ibeacon_uuid": None, "ibeacon_major": None, "ibeacon_minor": None,
           "eddystone_namespace": None, "eddystone_instance": None} | identity
    return Beacon(beacon_id, host_unit, lon, lat, content_id, "BlueCharm BC08", 1000, "CR2477", 3000,
                  date(2025, 5, 1), **ids)


# The Blue Charm reference iBeacon, registered in front of Porta Nuova.
PORTA_NUOVA = beacon("bcn-0001", "su-001", 7.6784, 45.0621, "content-porta-nuova",
                     ibeacon_uuid="426c7565-4368-6172-6d42-6561636f6e73", ibeacon_major=3838, ibeacon_minor=4949)
# The reference Eddystone-UID, registered at Piazza Castello.
CASTELLO = beacon("bcn-0002", "su-002", 7.6856, 45.0711, "content-castello",
                  eddystone_namespace="12345678901234678901", eddystone_instance="000000000001")
REGISTRY = Inventory(profiles={}, street_units={}, schools={}, beacons={b.id: b for b in (PORTA_NUOVA, CASTELLO)})
