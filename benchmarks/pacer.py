"""A steady MQTT load for the latency and soak benchmarks, in its own process.

    python -m benchmarks.pacer PORT RATE SECONDS UNIT...

Publishes air-quality payloads whose device time is the moment of sending,
at RATE messages per second for SECONDS, QoS 1, round robin over one topic
per ~500 msg/s (one unit each); prints the number sent once the broker has
acknowledged every one.

It speaks MQTT 3.1.1 over one socket itself rather than feeding
`mosquitto_pub -l` processes through pipes: on a crowded 2-core machine each
extra process in the path (pacer -> pipe -> mosquitto_pub -> broker) added
its own scheduling delays, which showed as hundreds of milliseconds of
publish->received delay before any subscriber saw the message (a bare
`mosquitto_sub` beside the collector measures what remains: the floor).
"""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import time

from ingest.mqtt.packets import _string, _varint  # MQTT's length encodings, the same in 3.1.1 and 5

FIELDS = ("pm1", "pm25", "pm10", "no2", "o3")
TOPICS_PER_MSG_S = 500  # one topic (unit) per this many messages per second
ACK_TIMEOUT_S = 60.0  # longest wait for the broker's last PUBACK after the last PUBLISH


def connect_packet(client_id: str, keepalive_s: int = 60) -> bytes:
    """MQTT 3.1.1 CONNECT with a clean session."""
    body = _string("MQTT") + bytes([4, 0x02]) + struct.pack("!H", keepalive_s) + _string(client_id)
    return b"\x10" + _varint(len(body)) + body


def publish_packet(topic: bytes, packet_id: int, payload: bytes) -> bytes:
    """MQTT 3.1.1 PUBLISH at QoS 1 (`topic` already length-prefixed)."""
    body_len = len(topic) + 2 + len(payload)
    return b"\x32" + _varint(body_len) + topic + struct.pack("!H", packet_id) + payload


class _Acks(threading.Thread):
    """Reads the broker's answers: the CONNACK, then counts PUBACKs (4 bytes each in MQTT 3.1.1)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.received = 0  # bytes after the CONNACK
        self.connected = threading.Event()

    def run(self) -> None:
        head = b""
        while len(head) < 4:
            chunk = self.sock.recv(4 - len(head))
            if not chunk:
                return
            head += chunk
        if head[0] != 0x20 or head[3] != 0:
            raise ConnectionRefusedError(f"broker refused the pacer: CONNACK {head.hex()}")
        self.connected.set()
        while True:
            try:
                chunk = self.sock.recv(65536)
            except OSError:  # closed by the pacer once every PUBACK is in
                return
            if not chunk:
                return
            self.received += len(chunk)

    @property
    def acked(self) -> int:
        """PUBACKs received so far."""
        return self.received // 4


def pace(port: int, rate: float, seconds: float, units: list[str]) -> int:
    """Publish; return how many messages were sent (and acknowledged by the broker)."""
    topics = [_string(f"iotorino/v1/street/{unit}/air_quality")
              for unit in units[:max(1, min(len(units), int(rate // TOPICS_PER_MSG_S) + 1))]]
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.settimeout(None)  # the PUBACK reader waits as long as the run lasts
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    acks = _Acks(sock)
    acks.start()
    sock.sendall(connect_packet(f"bench-pacer-{port}-{time.monotonic_ns() % 10**6}"))
    if not acks.connected.wait(10):
        raise TimeoutError("no CONNACK from the broker within 10 s")
    total = int(rate * seconds)
    started = time.perf_counter()
    sent = 0
    while sent < total:
        due = min(total, int((time.perf_counter() - started) * rate) + 1)
        out = []
        while sent < due:
            payload = json.dumps({"time": time.time(), "fields": {f: 12.5 + sent % 7 for f in FIELDS}}).encode()
            out.append(publish_packet(topics[sent % len(topics)], sent % 65535 + 1, payload))
            sent += 1
        if out:
            sock.sendall(b"".join(out))
        time.sleep(0.0005)
    deadline = time.monotonic() + ACK_TIMEOUT_S
    while acks.acked < sent and time.monotonic() < deadline:
        time.sleep(0.01)
    if acks.acked < sent:
        raise TimeoutError(f"the broker acknowledged {acks.acked} of {sent} messages")
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()
    return sent


if __name__ == "__main__":
    print(pace(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]))
