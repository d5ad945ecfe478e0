"""MQTT v5 packet encoding and parsing of the collector's session (pure, no broker)."""

from __future__ import annotations

import pytest

from ingest.mqtt import packets

# PUBLISH QoS 1, topic "a/b", packet id 7, no properties, payload b"hi" (as mosquitto sends it).
PUBLISH_QOS1 = bytes([0x32, 2 + 3 + 2 + 1 + 2]) + b"\x00\x03a/b" + b"\x00\x07" + b"\x00" + b"hi"
# PUBLISH QoS 0 with one property (payload format indicator = 1).
PUBLISH_QOS0_PROPS = bytes([0x30, 2 + 1 + 3 + 1]) + b"\x00\x01t" + b"\x02\x01\x01" + b"x"
SUBACK_ONE_REFUSED = bytes([0x90, 5]) + b"\x00\x01" + b"\x00" + b"\x01\x87"


def test_publishes_are_split_and_a_partial_packet_waits_for_more():
    big_payload = b"p" * 300  # remaining length needs two bytes
    big = bytes([0x32]) + packets._varint(2 + 3 + 2 + 1 + 300) + b"\x00\x03a/c\x00\x08\x00" + big_payload
    stream = bytearray(PUBLISH_QOS1 + PUBLISH_QOS0_PROPS + big + SUBACK_ONE_REFUSED)
    cut = len(stream) - 3
    messages, consumed, others = packets.split_publishes(stream[:cut])
    assert messages == [(7, "a/b", b"hi"), (0, "t", b"x"), (8, "a/c", big_payload)] and others == []
    assert consumed == len(PUBLISH_QOS1 + PUBLISH_QOS0_PROPS + big)
    messages, consumed, others = packets.split_publishes(stream[consumed:])
    assert messages == [] and others == [(packets.SUBACK, SUBACK_ONE_REFUSED[2:])]
    assert packets.parse_suback_failures(others[0][1]) == ["0x87"]


def _publish(packet_id: int, topic: bytes, payload: bytes) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic + packet_id.to_bytes(2, "big") + b"\x00" + payload
    return bytes([0x32]) + packets._varint(len(body)) + body


def test_a_stream_cut_anywhere_gives_the_whole_packets_before_the_cut():
    # Remaining lengths of one, two and three bytes.
    sent = [(1, "a/b", b"x" * 10), (2, "a/c", b"y" * 200), (3, "a/d", b"z" * 20_000), (4, "a/e", b"w" * 127)]
    stream = b"".join(_publish(pid, topic.encode(), payload) for pid, topic, payload in sent)
    ends = [len(b"".join(_publish(pid, t.encode(), p) for pid, t, p in sent[:n + 1])) for n in range(len(sent))]
    for cut in [*range(0, 260), *range(len(stream) - 140, len(stream) + 1)]:
        messages, consumed, others = packets.split_publishes(bytearray(stream[:cut]))
        whole = sum(1 for end in ends if end <= cut)
        assert messages == sent[:whole] and consumed == ([0] + ends)[whole] and others == []


def test_qos2_is_a_protocol_error():
    with pytest.raises(packets.ProtocolError):
        packets.split_publishes(bytearray(bytes([0x34]) + PUBLISH_QOS1[1:]))


def test_connect_asks_for_a_persistent_session():
    packet = packets.connect("collector-1", 30, 604800, 1000, "user", "pw")
    kind, flags, body, consumed = packets.read_one(bytearray(packet))
    assert kind == 1 and consumed == len(packet)
    assert body[:7] == b"\x00\x04MQTT\x05" and body[7] == 0xC0  # user + password, clean start off
    assert b"\x11\x00\x09\x3a\x80" in body and b"\x21\x03\xe8" in body  # session expiry, receive maximum
    assert body.endswith(b"\x00\x0bcollector-1\x00\x04user\x00\x02pw")


def test_connack_and_pubacks():
    assert packets.parse_connack(b"\x01\x00\x03\x13\x00\x3c") == (True, 0, 60)  # server keep alive 60 s
    assert packets.parse_connack(b"\x00\x87\x00") == (False, 0x87, 0)
    assert packets.pubacks([1, 258]) == b"\x40\x02\x00\x01\x40\x02\x01\x02"
    assert packets.read_one(bytearray(b"\x30")) is None


# -- fuzzing: whatever a broker sends parses or is a ProtocolError, never another exception ----------------

from hypothesis import given, settings, strategies as st  # noqa: E402


def _framed(first_byte: int, body: bytes) -> bytes:
    return bytes([first_byte]) + packets._varint(len(body)) + body


# Whole packets with a random first byte (often a PUBLISH) and a random body, so the parser gets past the
# framing into topic, packet id and property lengths; and plain random bytes.
packet_streams = st.one_of(
    st.binary(max_size=600),
    st.lists(st.tuples(st.one_of(st.integers(0x30, 0x3F), st.integers(0, 255)), st.binary(max_size=80)),
             max_size=8).map(lambda parts: b"".join(_framed(first, body) for first, body in parts)),
)


@settings(max_examples=400, deadline=None)
@given(packet_streams)
def test_any_byte_stream_parses_or_is_a_protocol_error(data):
    try:
        messages, consumed, others = packets.split_publishes(bytearray(data))
    except packets.ProtocolError:
        return
    assert 0 <= consumed <= len(data)
    for packet_id, topic, payload in messages:
        assert 0 <= packet_id < 65_536 and isinstance(topic, str) and isinstance(payload, bytes)
    for kind, body in others:
        if kind == packets.SUBACK:
            try:
                packets.parse_suback_failures(body)
            except packets.ProtocolError:
                pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_any_connack_body_parses_or_is_a_protocol_error(body):
    try:
        session_present, code, keepalive = packets.parse_connack(body)
    except packets.ProtocolError:
        return
    assert 0 <= code <= 255 and keepalive >= 0


def test_a_topic_that_is_not_utf8_is_a_protocol_error():
    with pytest.raises(packets.ProtocolError, match="malformed PUBLISH"):
        packets.split_publishes(bytearray(_publish(1, b"a/\xff", b"x")))
