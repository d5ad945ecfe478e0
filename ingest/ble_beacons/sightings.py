"""The privacy filter: turn an advertisement into a beacon sighting, or into nothing at all.

Only advertisements whose iBeacon, AltBeacon or Eddystone-UID identity is in
the beacon registry survive. Everything else (phones, watches, cars, unknown
or malformed beacons) is dropped on the spot: not stored, not logged, not
counted per device. Eddystone TLM and URL frames carry no identity; they count
only when the same advertiser address sent a registered UID frame within the
pairing window. Addresses live only in that short-lived map and in the
current window's distinct-address count; they are never written anywhere.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Mapping, Protocol

from ingest.ble_beacons import frames
from ingest.ble_beacons.const import APPLE_COMPANY_ID, DEFAULT_PAIR_WINDOW_S, EDDYSTONE_SERVICE_UUID


class BeaconRegistry(Protocol):
    """What the filter needs from the fleet registry (`iotorino.core.inventory.Inventory`)."""

    def beacon_by_ibeacon(self, uuid: str, major: int, minor: int):
        """The registered beacon with this iBeacon identity, or None."""

    def beacon_by_eddystone(self, namespace: str, instance: str):
        """The registered beacon with this Eddystone-UID identity, or None."""


@dataclass(frozen=True, slots=True)
class Sighting:
    """One advertisement of a registered beacon, as heard by this gateway.

    `address` is the advertiser address, kept in memory only to count distinct
    advertisers per window (a cloned id shows up as two) and never published.
    """

    beacon_id: str
    time_ns: int
    rssi_dbm: int
    power_1m_dbm: float | None
    tlm: frames.EddystoneTLM | None
    address: str


class BeaconFilter:
    """Matches advertisements against the registry and pairs Eddystone TLM frames by address."""

    def __init__(self, registry: BeaconRegistry, pair_window_s: float = DEFAULT_PAIR_WINDOW_S) -> None:
        self._registry = registry
        self._pair_window_ns = int(pair_window_s * 1e9)
        # address -> (beacon id, time_ns of its last identifying frame); oldest first.
        self._identity_by_address: OrderedDict[str, tuple[str, int]] = OrderedDict()

    def match(
        self,
        address: str,
        manufacturer_data: Mapping[int, bytes],
        service_data: Mapping[str, bytes],
        rssi_dbm: int,
        time_ns: int,
    ) -> Sighting | None:
        """The sighting this advertisement is, or None when it is not from a registered beacon."""
        self._forget_before(time_ns - self._pair_window_ns)
        beacon_id, power = self._identify(manufacturer_data, service_data)
        eddystone = _eddystone(service_data)
        if beacon_id is not None:
            self._identity_by_address[address] = (beacon_id, time_ns)
            self._identity_by_address.move_to_end(address)
        else:
            paired = self._identity_by_address.get(address)
            if paired is None or not isinstance(eddystone, (frames.EddystoneTLM, frames.EddystoneURL)):
                return None
            beacon_id = paired[0]
            power = frames.power_at_1m_dbm(eddystone)
        tlm = eddystone if isinstance(eddystone, frames.EddystoneTLM) else None
        return Sighting(beacon_id, time_ns, rssi_dbm, power, tlm, address)

    def _identify(self, manufacturer_data, service_data) -> tuple[str | None, float | None]:
        for company_id, payload in manufacturer_data.items():
            frame = _manufacturer_frame(company_id, payload)
            if isinstance(frame, frames.IBeacon):
                beacon = self._registry.beacon_by_ibeacon(frame.uuid, frame.major, frame.minor)
            elif isinstance(frame, frames.AltBeacon):
                beacon = self._registry.beacon_by_ibeacon(frame.uuid, frame.id2, frame.id3)
            else:
                continue
            if beacon is not None:
                return beacon.id, frames.power_at_1m_dbm(frame)
        eddystone = _eddystone(service_data)
        if isinstance(eddystone, frames.EddystoneUID):
            beacon = self._registry.beacon_by_eddystone(eddystone.namespace, eddystone.instance)
            if beacon is not None:
                return beacon.id, frames.power_at_1m_dbm(eddystone)
        return None, None

    def _forget_before(self, cutoff_ns: int) -> None:
        while self._identity_by_address:
            address, (_, seen_ns) = next(iter(self._identity_by_address.items()))
            if seen_ns >= cutoff_ns:
                return
            del self._identity_by_address[address]

    def addresses_held(self) -> int:
        """How many advertiser addresses the pairing map holds right now (for tests and metrics)."""
        return len(self._identity_by_address)


def _manufacturer_frame(company_id: int, payload: bytes) -> frames.Frame | None:
    try:
        if company_id == APPLE_COMPANY_ID and payload[:2] == b"\x02\x15":
            return frames.decode_ibeacon(payload)
        if payload[:2] == b"\xbe\xac":
            return frames.decode_altbeacon(payload)
    except frames.FrameError:
        return None
    return None


def _eddystone(service_data: Mapping[str, bytes]) -> frames.EddystoneFrame | None:
    payload = service_data.get(EDDYSTONE_SERVICE_UUID)
    if payload is None:
        return None
    try:
        return frames.decode_eddystone(payload)
    except frames.FrameError:
        return None
