"""A steady MQTT load for the latency and soak benchmarks, in its own process.

    python -m benchmarks.pacer PORT RATE SECONDS UNIT...

Feeds `mosquitto_pub -l` processes (QoS 1, one per ~500 msg/s, one unit each)
with air-quality payloads whose device time is the moment of sending, at RATE
messages per second for SECONDS; prints the number sent.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

FIELDS = ("pm1", "pm25", "pm10", "no2", "o3")


def pace(port: int, rate: float, seconds: float, units: list[str]) -> int:
    """Publish; return how many messages were sent."""
    feeders = max(1, min(len(units), int(rate // 500) + 1))
    procs = [subprocess.Popen(["mosquitto_pub", "-p", str(port), "-q", "1", "-l",
                               "-t", f"iotorino/v1/street/{units[i]}/air_quality"], stdin=subprocess.PIPE)
             for i in range(feeders)]
    total = int(rate * seconds)
    started = time.perf_counter()
    sent = 0
    try:
        while sent < total:
            due = min(total, int((time.perf_counter() - started) * rate) + 1)
            touched = set()
            while sent < due:
                k = sent % feeders
                line = json.dumps({"time": time.time(), "fields": {f: 12.5 + sent % 7 for f in FIELDS}}) + "\n"
                procs[k].stdin.write(line.encode())
                touched.add(k)
                sent += 1
            for k in touched:
                procs[k].stdin.flush()
            time.sleep(0.0005)
    finally:
        for proc in procs:
            proc.stdin.close()
            proc.wait()
    return sent


if __name__ == "__main__":
    print(pace(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), sys.argv[4:]))
