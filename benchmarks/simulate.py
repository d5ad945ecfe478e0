"""Simulator throughput: messages generated and published per second (medians), and one day at that pace.

The committed fleet's message count for one simulated day, the median
generation rate (pure generator) and the median publish rate through a local
mosquitto (QoS 1, generator included).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from benchmarks.report import Figure, median
from iotorino.core import catalogue, inventory
from iotorino.services import Mosquitto
from iotorino.simulate import count_messages, iter_messages
from iotorino.simulate.period import parse_start
from iotorino.simulate.publisher import MqttSender, publish_messages

START = parse_start("2026-11-20T06:00")


def run(hours: float, repeat: int) -> list[Figure]:
    """Generate and publish `hours` of the fleet `repeat` times."""
    fleet, cat = inventory.default(), catalogue.default()
    end = START + timedelta(hours=hours)
    per_day = count_messages(fleet, cat, START, START + timedelta(days=1), 1)
    generated, published = [], []
    workdir = Path(tempfile.mkdtemp(prefix="iotorino-bench-"))
    broker = Mosquitto(workdir).start()
    try:
        for _ in range(repeat):
            t0 = time.monotonic()
            n = sum(1 for _ in iter_messages(fleet, cat, START, end, 1, 0.0))
            generated.append(n / (time.monotonic() - t0))
            with MqttSender("127.0.0.1", broker.port) as sender:
                t0 = time.monotonic()
                summary = publish_messages(iter_messages(fleet, cat, START, end, 1, 0.0), sender.send, START, None)
                sender.flush()
                published.append(summary.published / (time.monotonic() - t0))
    finally:
        broker.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    gen, pub = median(generated), median(published)
    return [
        Figure("simulator: publish rate", pub, "msg/s", gen, "generate only", None, False,
               f"{hours:g} h of the fleet x {repeat}; {per_day:,} messages per simulated day, "
               f"one day at --speed max about {per_day / pub:.0f} s"),
    ]
