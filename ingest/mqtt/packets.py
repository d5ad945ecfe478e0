"""MQTT v5 packets the collector's session sends and reads: pure encoding and parsing, no I/O.

Only what a QoS 1 subscriber needs (OASIS MQTT 5.0): CONNECT, CONNACK,
SUBSCRIBE, SUBACK, PUBLISH (in), PUBACK (out), PINGREQ/PINGRESP, DISCONNECT.
"""

from __future__ import annotations

import struct

CONNACK, PUBLISH, PUBACK, SUBACK, PINGRESP, DISCONNECT_TYPE = 2, 3, 4, 9, 13, 14
PINGREQ = b"\xc0\x00"
DISCONNECT = b"\xe0\x00"  # normal disconnection, session kept for its expiry interval
_PROP_SESSION_EXPIRY, _PROP_RECEIVE_MAXIMUM, _PROP_SERVER_KEEP_ALIVE = 0x11, 0x21, 0x13
# Property identifier -> size of its value; -1: UTF-8 string or binary (2-byte length), -2: string pair,
# 0: variable byte integer.
_PROPERTY_SIZES = {0x01: 1, 0x02: 4, 0x03: -1, 0x08: -1, 0x09: -1, 0x0B: 0, 0x11: 4, 0x12: -1, 0x13: 2, 0x15: -1,
                   0x16: -1, 0x17: 1, 0x18: 4, 0x19: 1, 0x1A: -1, 0x1C: -1, 0x1F: -1, 0x21: 2, 0x22: 2, 0x23: 2,
                   0x24: 1, 0x25: 1, 0x26: -2, 0x27: 4, 0x28: 1, 0x29: 1, 0x2A: 1}


class ProtocolError(Exception):
    """The broker sent something this session cannot accept (the connection is dropped and retried)."""


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _read_varint(data, pos: int) -> tuple[int, int] | None:
    """(value, next position), or None when `data` ends inside it."""
    value = shift = 0
    for i in range(4):
        if pos + i >= len(data):
            return None
        byte = data[pos + i]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos + i + 1
        shift += 7
    raise ProtocolError("variable byte integer longer than 4 bytes")


def _string(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack("!H", len(raw)) + raw


def _packet(first_byte: int, body: bytes) -> bytes:
    return bytes([first_byte]) + _varint(len(body)) + body


def connect(client_id: str, keepalive_s: int, session_expiry_s: int, receive_maximum: int,
            username: str = "", password: str = "") -> bytes:
    """CONNECT without clean start: the broker keeps the session for `session_expiry_s` seconds."""
    flags = (0x80 if username else 0) | (0x40 if password else 0)
    properties = (bytes([_PROP_SESSION_EXPIRY]) + struct.pack("!I", session_expiry_s)
                  + bytes([_PROP_RECEIVE_MAXIMUM]) + struct.pack("!H", receive_maximum))
    body = (_string("MQTT") + bytes([5, flags]) + struct.pack("!H", keepalive_s) + _varint(len(properties))
            + properties + _string(client_id))
    if username:
        body += _string(username)
    if password:
        body += _string(password)
    return _packet(0x10, body)


def subscribe(packet_id: int, filters: list[str]) -> bytes:
    """SUBSCRIBE to every filter at QoS 1."""
    body = struct.pack("!H", packet_id) + b"\x00" + b"".join(_string(f) + b"\x01" for f in filters)
    return _packet(0x82, body)


def pubacks(packet_ids: list[int]) -> bytes:
    """PUBACKs (success, no properties) for `packet_ids`, concatenated in order."""
    # Each PUBACK is 0x40, remaining length 2, the packet id: one big-endian 32-bit word.
    return struct.pack(f"!{len(packet_ids)}I", *[0x40020000 | pid for pid in packet_ids])


def parse_connack(body: bytes) -> tuple[bool, int, int]:
    """(session present, reason code, server keep alive or 0) of a CONNACK body."""
    if len(body) < 2:
        raise ProtocolError("CONNACK too short")
    keepalive = 0
    if len(body) > 2:
        length, pos = _read_varint(body, 2) or (0, 3)
        if pos + length > len(body):
            raise ProtocolError("CONNACK properties past the packet")
        keepalive = _properties(body, pos, pos + length).get(_PROP_SERVER_KEEP_ALIVE, 0)
    return bool(body[0] & 1), body[1], keepalive


def parse_suback_failures(body: bytes) -> list[str]:
    """Reason codes (hex) of the refused filters of a SUBACK body; empty when all were granted."""
    if len(body) < 3:
        raise ProtocolError("SUBACK too short")
    length, pos = _read_varint(body, 2) or (0, 3)
    return [f"0x{code:02x}" for code in body[pos + length:] if code >= 0x80]


def read_one(buffer: bytearray) -> tuple[int, int, bytes, int] | None:
    """(type, flags, body, bytes consumed) of the first whole packet in `buffer`, or None."""
    if len(buffer) < 2:
        return None
    parsed = _read_varint(buffer, 1)
    if parsed is None:
        return None
    length, start = parsed
    end = start + length
    if end > len(buffer):
        return None
    return buffer[0] >> 4, buffer[0] & 0x0F, bytes(buffer[start:end]), end


def split_publishes(buffer: bytearray) -> tuple[list[tuple[int, str, bytes]], int, list[tuple[int, bytes]]]:
    """Every whole packet at the start of `buffer`: PUBLISHes as (packet id, topic, payload), bytes consumed,
    and the other packets as (type, body). Packet id 0 means QoS 0."""
    messages: list[tuple[int, str, bytes]] = []
    others: list[tuple[int, bytes]] = []
    # One immutable copy of the whole read: every payload is then a single slice of it.
    data = bytes(buffer)
    pos, size = 0, len(data)
    while pos + 2 <= size:
        first, second = data[pos], data[pos + 1]
        # Remaining length: one byte up to 127, two up to 16,383, which is every message here.
        if second < 0x80:
            length, start = second, pos + 2
        elif pos + 2 < size and data[pos + 2] < 0x80:
            length, start = (second & 0x7F) | data[pos + 2] << 7, pos + 3
        else:
            parsed = _read_varint(data, pos + 1)
            if parsed is None:
                break
            length, start = parsed
        end = start + length
        if end > size:
            break
        if first >> 4 == PUBLISH:
            try:
                messages.append(_publish(data, first, start, end))
            except (IndexError, UnicodeDecodeError) as exc:  # a length pointing past the packet, a bad topic
                raise ProtocolError(f"malformed PUBLISH ({type(exc).__name__})") from None
        else:
            others.append((first >> 4, data[start:end]))
        pos = end
    return messages, pos, others


def _publish(data: bytes, first: int, start: int, end: int) -> tuple[int, str, bytes]:
    """(packet id, topic, payload) of the PUBLISH whose body is data[start:end]; raises IndexError past `end`."""
    topic_end = start + 2 + (data[start] << 8 | data[start + 1])
    if topic_end > end:
        raise IndexError("topic past the packet")
    topic = data[start + 2:topic_end].decode()
    qos = (first >> 1) & 3
    if qos == 1:
        packet_id = data[topic_end] << 8 | data[topic_end + 1]
        topic_end += 2
        if not packet_id:
            raise ProtocolError("QoS 1 PUBLISH with packet id 0")
    elif qos == 0:
        packet_id = 0
    else:
        raise ProtocolError("QoS 2 PUBLISH on a QoS 1 subscription")
    if topic_end >= end:
        raise IndexError("properties past the packet")
    if data[topic_end] < 0x80:  # properties length, usually 0
        payload_start = topic_end + 1 + data[topic_end]
    else:
        prop_length, prop_start = _read_varint(data, topic_end) or (0, topic_end)
        payload_start = prop_start + prop_length
    if payload_start > end:
        raise IndexError("properties past the packet")
    return packet_id, topic, data[payload_start:end]


def _properties(data: bytes, pos: int, end: int) -> dict[int, int]:
    """Integer-valued properties between `pos` and `end` (strings and pairs are skipped)."""
    found: dict[int, int] = {}
    if end > len(data):
        raise ProtocolError("properties past the packet")
    while pos < end:
        identifier = data[pos]
        size = _PROPERTY_SIZES.get(identifier)
        if size is None:
            raise ProtocolError(f"unknown property 0x{identifier:02x}")
        pos += 1
        if size > 0:
            found[identifier] = int.from_bytes(data[pos:pos + size], "big")
            pos += size
        elif size == 0:
            value, pos = _read_varint(data, pos) or (0, end)
            found[identifier] = value
        else:
            for _ in range(-size):
                pos += 2 + int.from_bytes(data[pos:pos + 2], "big")
    return found
