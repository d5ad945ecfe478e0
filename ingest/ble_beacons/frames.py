"""Pure decoders for beacon frames: iBeacon, AltBeacon and Eddystone UID / URL / TLM / EID.

Input is the payload bleak hands over: `manufacturer_data[company_id]` without
the 2-byte company id, or `service_data[EDDYSTONE_UUID]`. Every decoder returns
a frozen frame or raises `FrameError` (a `Rejected`) naming the frame kind,
the length or byte that was wrong and what is accepted; nothing else escapes.
Layouts: shared/reference/beacons.md and ingest/ble_beacons/README.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Union

from iotorino.core.errors import Rejected

# Eddystone frame types (first byte of the service data).
EDDYSTONE_UID = 0x00
EDDYSTONE_URL = 0x10
EDDYSTONE_TLM = 0x20
EDDYSTONE_EID = 0x30

# Eddystone Tx power is referenced to 0 m; power at 1 m is about 41 dB lower.
EDDYSTONE_0M_TO_1M_DB = 41

_URL_SCHEMES = ("http://www.", "https://www.", "http://", "https://")
_URL_EXPANSIONS = (".com/", ".org/", ".edu/", ".net/", ".info/", ".biz/", ".gov/",
                   ".com", ".org", ".edu", ".net", ".info", ".biz", ".gov")
# TLM temperature value meaning "not supported" (signed 8.8 fixed point).
_TLM_NO_TEMPERATURE = 0x8000


class FrameError(Rejected):
    """A beacon payload that is not a valid frame of the kind it claims to be."""


@dataclass(frozen=True, slots=True)
class IBeacon:
    """Apple iBeacon: proximity UUID, major, minor and measured power at 1 m (dBm)."""

    uuid: str
    major: int
    minor: int
    measured_power_dbm: int


@dataclass(frozen=True, slots=True)
class AltBeacon:
    """AltBeacon: 20-byte id read as UUID + id2 + id3, reference RSSI at 1 m (dBm)."""

    uuid: str
    id2: int
    id3: int
    reference_rssi_dbm: int
    manufacturer_reserved: int


@dataclass(frozen=True, slots=True)
class EddystoneUID:
    """Eddystone-UID: 10-byte namespace and 6-byte instance as lowercase hex, Tx power at 0 m."""

    tx_power_0m_dbm: int
    namespace: str
    instance: str


@dataclass(frozen=True, slots=True)
class EddystoneURL:
    """Eddystone-URL: the expanded URL and the Tx power at 0 m."""

    tx_power_0m_dbm: int
    url: str


@dataclass(frozen=True, slots=True)
class EddystoneTLM:
    """Unencrypted Eddystone-TLM; `None` where the beacon reports the value as unsupported."""

    battery_mv: int | None
    temperature_c: float | None
    adv_count: int
    uptime_s: float  # the frame counts tenths of a second


@dataclass(frozen=True, slots=True)
class EddystoneEncryptedTLM:
    """Encrypted Eddystone-TLM (version 1): opaque without the beacon's identity key."""

    salt: int
    mic: int


@dataclass(frozen=True, slots=True)
class EddystoneEID:
    """Eddystone-EID: an 8-byte ephemeral id (hex) and the Tx power at 0 m."""

    tx_power_0m_dbm: int
    ephemeral_id: str


EddystoneFrame = Union[EddystoneUID, EddystoneURL, EddystoneTLM, EddystoneEncryptedTLM, EddystoneEID]
Frame = Union[IBeacon, AltBeacon, EddystoneFrame]


def decode_ibeacon(payload: bytes) -> IBeacon:
    """Decode Apple manufacturer data (company 0x004C) as an iBeacon; bytes past 23 are ignored."""
    _length("ibeacon", payload, 23, None)
    if payload[0] != 0x02 or payload[1] != 0x15:
        raise FrameError("not_ibeacon", "iBeacon frames start 02 15", field="ibeacon[0:2]",
                         value=payload[:2].hex(), accepted="0215")
    return IBeacon(
        uuid=str(uuid.UUID(bytes=bytes(payload[2:18]))),
        major=int.from_bytes(payload[18:20], "big"),
        minor=int.from_bytes(payload[20:22], "big"),
        measured_power_dbm=_int8(payload[22]),
    )


def decode_altbeacon(payload: bytes) -> AltBeacon:
    """Decode manufacturer data (any company id) as an AltBeacon: exactly 24 bytes, starting BE AC."""
    _length("altbeacon", payload, 24, 24)
    if payload[0] != 0xBE or payload[1] != 0xAC:
        raise FrameError("not_altbeacon", "AltBeacon frames start BE AC", field="altbeacon[0:2]",
                         value=payload[:2].hex(), accepted="beac")
    return AltBeacon(
        uuid=str(uuid.UUID(bytes=bytes(payload[2:18]))),
        id2=int.from_bytes(payload[18:20], "big"),
        id3=int.from_bytes(payload[20:22], "big"),
        reference_rssi_dbm=_int8(payload[22]),
        manufacturer_reserved=payload[23],
    )


def decode_eddystone(payload: bytes) -> EddystoneFrame:
    """Decode Eddystone service data (UUID 0xFEAA) by its frame type byte."""
    _length("eddystone", payload, 1, None)
    kind = payload[0]
    if kind == EDDYSTONE_UID:
        return _uid(payload)
    if kind == EDDYSTONE_URL:
        return _url(payload)
    if kind == EDDYSTONE_TLM:
        return _tlm(payload)
    if kind == EDDYSTONE_EID:
        _length("eddystone_eid", payload, 10, 10)
        return EddystoneEID(_int8(payload[1]), bytes(payload[2:10]).hex())
    raise FrameError("unknown_frame", "unknown Eddystone frame type", field="eddystone[0]",
                     value=f"0x{kind:02x}", accepted="0x00 UID, 0x10 URL, 0x20 TLM, 0x30 EID")


def power_at_1m_dbm(frame: Frame) -> float | None:
    """The frame's calibrated power at 1 m in dBm (Eddystone's 0 m value minus 41 dB), if it has one."""
    if isinstance(frame, IBeacon):
        return float(frame.measured_power_dbm)
    if isinstance(frame, AltBeacon):
        return float(frame.reference_rssi_dbm)
    if isinstance(frame, (EddystoneUID, EddystoneURL, EddystoneEID)):
        return float(frame.tx_power_0m_dbm - EDDYSTONE_0M_TO_1M_DB)
    return None


def _uid(payload: bytes) -> EddystoneUID:
    # The two reserved bytes at 18-19 are optional: some beacons omit them.
    _length("eddystone_uid", payload, 18, 20)
    return EddystoneUID(_int8(payload[1]), bytes(payload[2:12]).hex(), bytes(payload[12:18]).hex())


def _url(payload: bytes) -> EddystoneURL:
    _length("eddystone_url", payload, 4, 20)
    scheme = payload[2]
    if scheme >= len(_URL_SCHEMES):
        raise FrameError("bad_url", "unknown URL scheme prefix", field="eddystone_url[2]",
                         value=f"0x{scheme:02x}", accepted="0x00-0x03")
    parts = [_URL_SCHEMES[scheme]]
    for offset, code in enumerate(payload[3:], start=3):
        if code < len(_URL_EXPANSIONS):
            parts.append(_URL_EXPANSIONS[code])
        elif 0x21 <= code <= 0x7E:
            parts.append(chr(code))
        else:
            raise FrameError("bad_url", "reserved URL byte", field=f"eddystone_url[{offset}]",
                             value=f"0x{code:02x}", accepted="0x00-0x0d expansions or printable ASCII 0x21-0x7e")
    return EddystoneURL(_int8(payload[1]), "".join(parts))


def _tlm(payload: bytes) -> EddystoneTLM | EddystoneEncryptedTLM:
    _length("eddystone_tlm", payload, 2, None)
    version = payload[1]
    if version == 0x01:
        _length("eddystone_etlm", payload, 18, 18)
        return EddystoneEncryptedTLM(int.from_bytes(payload[14:16], "big"), int.from_bytes(payload[16:18], "big"))
    if version != 0x00:
        raise FrameError("bad_tlm", "unknown TLM version", field="eddystone_tlm[1]",
                         value=f"0x{version:02x}", accepted="0x00 plain, 0x01 encrypted")
    _length("eddystone_tlm", payload, 14, 14)
    battery = int.from_bytes(payload[2:4], "big")
    raw_temperature = int.from_bytes(payload[4:6], "big")
    # Signed 8.8 fixed point: reading it unsigned turns -16 °C into 240 °C.
    temperature = None if raw_temperature == _TLM_NO_TEMPERATURE else int.from_bytes(
        payload[4:6], "big", signed=True) / 256
    return EddystoneTLM(
        battery_mv=battery or None,  # 0 means "not supported"
        temperature_c=temperature,
        adv_count=int.from_bytes(payload[6:10], "big"),
        uptime_s=int.from_bytes(payload[10:14], "big") / 10,  # tenths of a second
    )


def _length(kind: str, payload: bytes, low: int, high: int | None) -> None:
    n = len(payload)
    if n < low:
        raise FrameError("truncated", f"{kind} frame too short", field=f"{kind}.length", value=n,
                         accepted=f"{low} bytes" if high == low else f"at least {low} bytes")
    if high is not None and n > high:
        raise FrameError("oversized", f"{kind} frame too long", field=f"{kind}.length", value=n,
                         accepted=f"{high} bytes" if high == low else f"{low} to {high} bytes")


def _int8(byte: int) -> int:
    return byte - 256 if byte > 127 else byte
