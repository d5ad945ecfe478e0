"""The privacy filter: registered beacons become sightings, everything else nothing; TLM pairing by address."""

from __future__ import annotations

from ingest.ble_beacons.const import APPLE_COMPANY_ID, EDDYSTONE_SERVICE_UUID
from ingest.ble_beacons.sightings import BeaconFilter
from tests.ble_beacons import adverts
from tests.ble_beacons.fleet import REGISTRY

S = 1_000_000_000
BEACON_MAC = "C3:00:00:00:00:01"
PHONE_MAC = "5A:11:22:33:44:55"
# An Apple Continuity "nearby" message as phones send it: manufacturer data 0x004C, type 0x10.
IPHONE_NEARBY = {APPLE_COMPANY_ID: bytes.fromhex("1005031c0b6a1d")}


def eddystone(payload):
    return {EDDYSTONE_SERVICE_UUID: payload}


def test_registered_ibeacon_is_a_sighting():
    sighting = BeaconFilter(REGISTRY).match(BEACON_MAC, {APPLE_COMPANY_ID: adverts.BLUECHARM_IBEACON}, {}, -70, 5 * S)
    assert (sighting.beacon_id, sighting.rssi_dbm, sighting.power_1m_dbm, sighting.tlm) == ("bcn-0001", -70, -59, None)


def test_unregistered_beacon_and_phone_are_nothing():
    beacon_filter = BeaconFilter(REGISTRY)
    stranger = bytearray(adverts.BLUECHARM_IBEACON)
    stranger[21] ^= 1  # another minor
    assert beacon_filter.match(BEACON_MAC, {APPLE_COMPANY_ID: bytes(stranger)}, {}, -70, S) is None
    assert beacon_filter.match(PHONE_MAC, IPHONE_NEARBY, {}, -50, S) is None
    assert beacon_filter.addresses_held() == 0


def test_tlm_pairs_with_uid_from_same_address_within_window():
    beacon_filter = BeaconFilter(REGISTRY, pair_window_s=10)
    assert beacon_filter.match(BEACON_MAC, {}, eddystone(adverts.EDDYSTONE_TLM_REFERENCE), -71, 0) is None
    uid = beacon_filter.match(BEACON_MAC, {}, eddystone(adverts.EDDYSTONE_UID_REFERENCE), -72, 1 * S)
    assert uid.beacon_id == "bcn-0002" and uid.power_1m_dbm == -70
    tlm = beacon_filter.match(BEACON_MAC, {}, eddystone(adverts.EDDYSTONE_TLM_REFERENCE), -73, 5 * S)
    assert tlm.beacon_id == "bcn-0002" and tlm.tlm.battery_mv == 2840
    # Another advertiser sending a TLM is not paired; a late TLM neither.
    assert beacon_filter.match(PHONE_MAC, {}, eddystone(adverts.EDDYSTONE_TLM_REFERENCE), -60, 6 * S) is None
    assert beacon_filter.match(BEACON_MAC, {}, eddystone(adverts.EDDYSTONE_TLM_REFERENCE), -73, 12 * S) is None
    assert beacon_filter.addresses_held() == 0


def test_malformed_frames_are_dropped_silently():
    beacon_filter = BeaconFilter(REGISTRY)
    truncated = {APPLE_COMPANY_ID: adverts.BLUECHARM_IBEACON[:20]}
    assert beacon_filter.match(BEACON_MAC, truncated, eddystone(b"\x00\x01"), -70, S) is None


def test_altbeacon_matches_by_uuid_id2_id3():
    alt = bytearray(adverts.ALTBEACON)
    alt[18:22] = (3838).to_bytes(2, "big") + (4949).to_bytes(2, "big")
    sighting = BeaconFilter(REGISTRY).match(BEACON_MAC, {0x0118: bytes(alt)}, {}, -80, S)
    assert sighting.beacon_id == "bcn-0001" and sighting.power_1m_dbm == -60
