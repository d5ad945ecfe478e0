"""Decoders against the reference vectors, hard cases, and random bytes of every length."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.ble_beacons import frames
from ingest.ble_beacons.frames import FrameError
from tests.ble_beacons import adverts


def test_ibeacon_reference_vector():
    frame = frames.decode_ibeacon(adverts.BLUECHARM_IBEACON)
    assert frame == frames.IBeacon("426c7565-4368-6172-6d42-6561636f6e73", 3838, 4949, -59)
    assert frames.power_at_1m_dbm(frame) == -59


def test_ibeacon_ignores_vendor_bytes_past_23():
    assert frames.decode_ibeacon(adverts.BLUECHARM_IBEACON + b"\x64").minor == 4949


def test_eddystone_uid_reference_vector():
    frame = frames.decode_eddystone(adverts.EDDYSTONE_UID_REFERENCE)
    assert frame == frames.EddystoneUID(-29, "12345678901234678901", "000000000001")
    assert frames.power_at_1m_dbm(frame) == -29 - 41


def test_eddystone_uid_without_reserved_bytes():
    frame = frames.decode_eddystone(adverts.EDDYSTONE_UID_REFERENCE[:18])
    assert frame.instance == "000000000001"


def test_eddystone_url_reference_vector():
    frame = frames.decode_eddystone(adverts.EDDYSTONE_URL_GITHUB)
    assert frame == frames.EddystoneURL(-8, "https://github.com/citruz")


def test_eddystone_tlm_reference_vector():
    frame = frames.decode_eddystone(adverts.EDDYSTONE_TLM_REFERENCE)
    assert frame == frames.EddystoneTLM(2840, 19.0, 5223, 1094.8)
    assert frames.power_at_1m_dbm(frame) is None


def test_tlm_temperature_is_signed():
    assert frames.decode_eddystone(adverts.EDDYSTONE_TLM_MINUS_16C).temperature_c == -16.0


def test_tlm_unsupported_values_are_none():
    frame = frames.decode_eddystone(adverts.EDDYSTONE_TLM_UNSUPPORTED)
    assert frame.battery_mv is None and frame.temperature_c is None


def test_encrypted_tlm_is_opaque():
    assert frames.decode_eddystone(adverts.EDDYSTONE_ETLM) == frames.EddystoneEncryptedTLM(0x1234, 0xABCD)


def test_eid_and_altbeacon():
    assert frames.decode_eddystone(adverts.EDDYSTONE_EID) == frames.EddystoneEID(-20, "0102030405060708")
    alt = frames.decode_altbeacon(adverts.ALTBEACON)
    assert (alt.uuid, alt.id2, alt.id3, alt.reference_rssi_dbm) == (
        "426c7565-4368-6172-6d42-6561636f6e73", 1, 2, -60)


@pytest.mark.parametrize(
    "decode, payload, reason",
    [
        (frames.decode_ibeacon, adverts.BLUECHARM_IBEACON[:22], "truncated"),
        (frames.decode_ibeacon, b"\x02\x16" + adverts.BLUECHARM_IBEACON[2:], "not_ibeacon"),
        (frames.decode_eddystone, adverts.EDDYSTONE_UID_REFERENCE[:17], "truncated"),
        (frames.decode_eddystone, adverts.EDDYSTONE_UID_REFERENCE + b"\x00", "oversized"),
        (frames.decode_eddystone, adverts.EDDYSTONE_TLM_REFERENCE[:13], "truncated"),
        (frames.decode_eddystone, adverts.EDDYSTONE_TLM_REFERENCE + b"\x00", "oversized"),
        (frames.decode_eddystone, b"\x20\x02" + bytes(12), "bad_tlm"),
        (frames.decode_eddystone, b"\x10\xf8\x04abc", "bad_url"),
        (frames.decode_eddystone, b"\x10\xf8\x03ab\x0ec", "bad_url"),
        (frames.decode_eddystone, b"\x40", "unknown_frame"),
        (frames.decode_eddystone, b"", "truncated"),
        (frames.decode_altbeacon, adverts.ALTBEACON[:23], "truncated"),
        (frames.decode_altbeacon, adverts.ALTBEACON + b"\x00", "oversized"),
    ],
)
def test_bad_frames_name_what_is_wrong(decode, payload, reason):
    with pytest.raises(FrameError) as caught:
        decode(payload)
    assert caught.value.reason == reason
    assert caught.value.field and caught.value.accepted


def test_error_message_names_length_and_accepted():
    with pytest.raises(FrameError, match=r"value 13; accepted: 14 bytes"):
        frames.decode_eddystone(adverts.EDDYSTONE_TLM_REFERENCE[:13])


@settings(max_examples=400)
@given(st.binary(min_size=0, max_size=64))
def test_random_bytes_raise_only_frame_errors(payload):
    for decode in (frames.decode_ibeacon, frames.decode_eddystone, frames.decode_altbeacon):
        try:
            frame = decode(payload)
        except FrameError:
            continue
        frames.power_at_1m_dbm(frame)


@given(st.sampled_from([0x00, 0x10, 0x20, 0x30]), st.binary(max_size=40))
def test_random_eddystone_bodies_raise_only_frame_errors(kind, body):
    try:
        frames.decode_eddystone(bytes([kind]) + body)
    except FrameError:
        pass


@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF),
       st.integers(1, 0xFFFF), st.integers(-0x8000 + 1, 0x7FFF))
def test_tlm_round_trip(adv_count, uptime, battery, temperature_raw):
    payload = (b"\x20\x00" + battery.to_bytes(2, "big") + temperature_raw.to_bytes(2, "big", signed=True)
               + adv_count.to_bytes(4, "big") + uptime.to_bytes(4, "big"))
    frame = frames.decode_eddystone(payload)
    assert frame == frames.EddystoneTLM(battery, temperature_raw / 256, adv_count, uptime / 10)
