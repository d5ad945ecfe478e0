"""Simulator throughput on this machine: messages generated and published per second (medians).

    .venv/bin/python benchmarks/simulate_rate.py [--hours 2] [--repeat 3]

Prints the committed fleet's message count for one simulated day, the median
generation rate (pure generator) and the median publish rate through a local
mosquitto (QoS 1, generator included), and the wall time one day would take
at that rate. Run it on a quiet machine: other load skews the numbers.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from iotorino.core import catalogue, inventory
from iotorino.services import Mosquitto
from iotorino.simulate import count_messages, iter_messages
from iotorino.simulate.period import parse_start
from iotorino.simulate.publisher import MqttSender, publish_messages

START = parse_start("2026-11-20T06:00")


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    fleet, cat = inventory.default(), catalogue.default()
    end = START + timedelta(hours=args.hours)
    per_day = count_messages(fleet, cat, START, START + timedelta(days=1), 1)
    generated, published = [], []
    broker = Mosquitto(Path(tempfile.mkdtemp(prefix="iotorino-bench-"))).start()
    try:
        for _ in range(args.repeat):
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
    gen, pub = statistics.median(generated), statistics.median(published)
    print(f"messages per simulated day: {per_day}")
    print(f"generate: median {gen:,.0f} msg/s over {args.repeat} runs of {args.hours:g} h")
    print(f"publish:  median {pub:,.0f} msg/s (QoS 1, generation included); publish/generate ratio {pub / gen:.2f}")
    print(f"one simulated day at --speed max: about {per_day / pub:.0f} s")


if __name__ == "__main__":
    main()
