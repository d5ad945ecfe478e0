"""Named captured adverts for the gateway tests: a registered iBeacon, an Eddystone UID+TLM beacon, phones."""

from __future__ import annotations

from ingest.ble_beacons.capture import CapturedAdvert
from ingest.ble_beacons.const import APPLE_COMPANY_ID, EDDYSTONE_SERVICE_UUID
from tests.ble_beacons import adverts

S = 1_000_000_000
# 2026-11-21T10:00:00Z, the start of a 30 s window.
T0 = 1_795_255_200 * S
PHONE_MAC = "5A:11:22:33:44:55"
WATCH_MAC = "7B:66:77:88:99:AA"
PHONE_NAME = "Maria's iPhone"


def ibeacon(t_s: float, rssi: int, address: str = "C3:00:00:00:00:01") -> CapturedAdvert:
    """The Blue Charm reference iBeacon (bcn-0001) heard at T0 + t_s."""
    return CapturedAdvert(T0 + int(t_s * S), address, rssi, {APPLE_COMPANY_ID: adverts.BLUECHARM_IBEACON})


def eddystone(t_s: float, rssi: int, payload: bytes, address: str = "C3:00:00:00:00:02") -> CapturedAdvert:
    """An Eddystone frame of bcn-0002 (reference UID) heard at T0 + t_s."""
    return CapturedAdvert(T0 + int(t_s * S), address, rssi, {}, {EDDYSTONE_SERVICE_UUID: payload},
                          ("0000feaa-0000-1000-8000-00805f9b34fb",))


def phone(t_s: float, rssi: int = -55) -> CapturedAdvert:
    """A phone's Apple Continuity advert with its name: personal data that must leave no trace."""
    return CapturedAdvert(T0 + int(t_s * S), PHONE_MAC, rssi, {APPLE_COMPANY_ID: bytes.fromhex("1005031c0b6a1d")},
                          {}, (), 12, PHONE_NAME)


def watch(t_s: float, rssi: int = -65) -> CapturedAdvert:
    """A fitness watch advertising the heart-rate service."""
    return CapturedAdvert(T0 + int(t_s * S), WATCH_MAC, rssi, {0x0157: bytes.fromhex("0102")},
                          {"0000180d-0000-1000-8000-00805f9b34fb": b"\x00"},
                          ("0000180d-0000-1000-8000-00805f9b34fb",), None, "Mi Band 7")


# Two windows: both beacons in the first, only the iBeacon in the second, phones throughout.
TWO_WINDOWS = sorted([
    ibeacon(1, -70), ibeacon(2, -74), ibeacon(3, -72), phone(1.5), watch(2.5),
    eddystone(4, -80, adverts.EDDYSTONE_UID_REFERENCE), eddystone(4.3, -82, adverts.EDDYSTONE_TLM_REFERENCE),
    eddystone(5, -81, adverts.EDDYSTONE_URL_GITHUB), phone(20), watch(29),
    ibeacon(31, -69), phone(40), ibeacon(45, -71),
], key=lambda a: a.time_ns)
