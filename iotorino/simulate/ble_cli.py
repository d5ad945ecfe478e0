"""`iotorino simulate ble-capture --out DIR`: write whole-fleet BLE captures to replay.

DIR receives one capture per gateway (`GW-01.jsonl`, ... replay each with
`iotorino collect ble --replay`), `health.toml` with the gateways' places and
the `max_range_m` that fits them (paste into the `iotorino beacons serve`
config), and `expected.json`, the status each beacon must end up with.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from iotorino.core.errors import ConfigError
from ingest.ble_beacons.capture import to_line
from iotorino.core.times import parse_ns


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `iotorino simulate ble-capture`."""
    parser.add_argument("--out", required=True, type=Path, help="folder for the captures, health.toml, expected.json")
    parser.add_argument("--capture-start", help="RFC 3339 UTC start, e.g. 2026-11-21T10:00:00Z (default: "
                        "the whole minute --minutes before now)")
    parser.add_argument("--minutes", type=int, default=15, help="captured period (default %(default)s)")
    parser.add_argument("--capture-seed", type=int, default=2026, help="random seed (default %(default)s)")
    parser.add_argument("--report-interval-s", type=float, default=5.0,
                        help="one received report per beacon per this many seconds on average (default %(default)s)")


def run_simulate_ble(args: argparse.Namespace) -> int:
    """Generate the captures for the inventory's beacons and write them under --out."""
    from iotorino.core import inventory
    from iotorino.simulate.ble import generate

    if args.minutes < 5:
        raise ConfigError("--minutes", f"{args.minutes} is too short to tell a missing beacon", "5 or more")
    if args.capture_start:
        start_ns = parse_ns(args.capture_start, "--capture-start")
    else:
        start_ns = (time.time_ns() // (60 * 10**9) - args.minutes) * 60 * 10**9
    fleet = generate(inventory.default().beacons, start_ns, args.minutes * 60, seed=args.capture_seed,
                     report_interval_s=args.report_interval_s)
    write(fleet, args.out)
    print(f"{len(fleet.captures)} gateway captures, {sum(map(len, fleet.captures.values()))} adverts in {args.out}")
    return 0


def write(fleet, out: Path) -> None:
    """Write `fleet` (a `SimulatedFleet`) into folder `out`."""
    out.mkdir(parents=True, exist_ok=True)
    for gateway_id, adverts in fleet.captures.items():
        (out / f"{gateway_id}.jsonl").write_text("".join(to_line(a) + "\n" for a in adverts), encoding="utf-8")
    lines = ["# Written by `iotorino simulate ble-capture`: merge into the beacons serve config.",
             "[thresholds]", f"max_range_m = {fleet.max_range_m:.1f}", ""]
    for gateway_id, (lon, lat) in fleet.gateways.items():
        lines += [f"[gateways.{gateway_id}]", f"lon = {lon}", f"lat = {lat}", ""]
    (out / "health.toml").write_text("\n".join(lines), encoding="utf-8")
    (out / "expected.json").write_text(json.dumps(fleet.expected, indent=1) + "\n", encoding="utf-8")
