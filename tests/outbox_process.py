"""An outbox publisher in its own process, for kill -9 tests: `python -m tests.outbox_process`.

Arguments: broker port, spool file, then one or more steps run in order:
`publish:PREFIX:N` spools N messages `PREFIX-0` ... one transaction each (as
windows close), `drain` waits until the broker acknowledged everything,
`wait` reads one line from stdin, `hang` sleeps until killed, `stop` drains
and exits. Each step prints its name when done, so the test can follow.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from iotorino.core.outbox import Message, Outbox

from iotorino.publisher import Publisher

TOPIC = "test/ble-publisher"


def main(port: int, spool_path: Path, steps: list[str]) -> int:
    """Run `steps` with a publisher on the broker at 127.0.0.1:`port`."""
    publisher = Publisher("127.0.0.1", port, "test-publisher", Outbox(spool_path))
    publisher.start()
    for step in steps:
        name, _, rest = step.partition(":")
        if name == "publish":
            prefix, count = rest.split(":")
            for i in range(int(count)):
                publisher.publish([Message(TOPIC, f"{prefix}-{i}".encode())])
        elif name == "drain":
            while publisher.outbox.count():
                time.sleep(0.02)
        elif name == "wait":
            sys.stdin.readline()
        elif name == "hang":
            print(name, flush=True)
            while True:
                time.sleep(1)
        elif name == "stop":
            left = publisher.stop(timeout_s=60)
            print(f"{name} {left}", flush=True)
            return 0 if left == 0 else 1
        print(name, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]))
