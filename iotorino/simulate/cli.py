"""`iotorino simulate`: the command-line face of the fleet simulator.

`add_simulate_arguments(parser)` declares the options on an argparse parser
(the project CLI's `simulate` subcommand) and `run_simulate(args)` runs it,
returning the exit status; iotorino/commands/simulate.py registers them.
`--dry-run` counts and generates without a broker.
"""

from __future__ import annotations

import argparse
from collections import Counter
from datetime import timedelta

from iotorino.core.errors import ConfigError
from iotorino.simulate import faults
from iotorino.simulate.period import parse_duration, parse_speed, parse_start

DEFAULT_START = "2026-11-20T00:00"
DEFAULT_SEED = 2026


def add_simulate_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Declare the simulator's options on `parser`."""
    parser.add_argument("--host", default="127.0.0.1", help="MQTT broker host (default %(default)s)")
    parser.add_argument("--port", type=int, default=1883, help="MQTT broker port (default %(default)s)")
    parser.add_argument("--mqtt-config", metavar="FILE",
                        help="a TOML file whose shared [mqtt] section (host, port, TLS, username, password_env) "
                        "to publish with, e.g. the collector's; replaces --host and --port")
    parser.add_argument(
        "--start", default=DEFAULT_START,
        help="first simulated instant, ISO 8601; without an offset it is Turin local time "
        "(Europe/Rome), with Z or +01:00 it is absolute (default %(default)s)",
    )
    parser.add_argument("--duration", default="1d", help="simulated period: 1d, 6h, 90m, 1d12h ... (default %(default)s)")
    parser.add_argument(
        "--speed", default="1440",
        help="simulated seconds per wall-clock second: 1440 = one day per minute, 'max' = as fast as possible "
        "(default %(default)s)",
    )
    parser.add_argument("--max-speed", action="store_true", help="same as --speed max")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed; same seed and period, same messages (default %(default)s)")
    parser.add_argument(
        "--fault-rate", type=float, default=0.0,
        help="probability that a message is faulty: stuck, out_of_range, missing or malformed, "
        "equally likely (see iotorino/simulate/faults.py; default %(default)s)",
    )
    parser.add_argument("--dry-run", action="store_true", help="generate and count the messages, publish nothing")
    return parser


def run_simulate(args: argparse.Namespace) -> int:
    """Run `iotorino simulate` with parsed `args`; raises `ConfigError` on a bad option."""
    start = parse_start(args.start)
    end = start + timedelta(seconds=parse_duration(args.duration))
    speed = None if args.max_speed else parse_speed(args.speed)
    if not 0.0 <= args.fault_rate <= 1.0:
        raise ConfigError("--fault-rate", f"{args.fault_rate} is not a probability", "a number from 0 to 1, e.g. 0.01")
    mqtt_settings = None
    if getattr(args, "mqtt_config", None):
        from iotorino.core import config

        mqtt_settings = config.mqtt_client(config.read_toml(args.mqtt_config))
        args.host, args.port = mqtt_settings.host, mqtt_settings.port
    from iotorino.core import catalogue as measurement_catalogue
    from iotorino.core import inventory as fleet
    from iotorino.simulate.generator import count_messages, iter_messages

    inventory, catalogue = fleet.default(), measurement_catalogue.default()
    expected = count_messages(inventory, catalogue, start, end, args.seed)
    pace = "as fast as possible" if speed is None else f"over {(end - start).total_seconds() / speed:.0f} s of wall-clock time"
    _say(f"{expected} messages for {start.isoformat()} to {end.isoformat()} (seed {args.seed}); publishing {pace}")
    if args.dry_run:
        kinds = Counter(m.fault for m in iter_messages(inventory, catalogue, start, end, args.seed, args.fault_rate))
        shown = ", ".join(f"{kind} {kinds[kind]}" for kind in faults.KINDS)
        _say(f"dry run: generated {sum(kinds.values())} messages; faults: {shown}; nothing published")
        return 0
    from iotorino.simulate.publisher import simulate

    summary = simulate(
        args.host, args.port, start, end, speed, args.seed, args.fault_rate,
        inventory=inventory, catalogue=catalogue, mqtt_settings=mqtt_settings,
        on_progress=lambda s: _say(f"... {s.published}/{expected} published, simulated time {s.last_time:%Y-%m-%d %H:%M}Z"),
    )
    _say(summary.describe())
    return 0


def _say(text: str) -> None:
    print(f"[simulate] {text}", flush=True)
