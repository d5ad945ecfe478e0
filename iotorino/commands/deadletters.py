"""`iotorino deadletters --config F list [--reason R] | show ID | replay [--reason R] [--id ID]`.

The operator's view of the collector's rejected messages: what was rejected
and why, one message in full, and a replay through the current pipeline
once the catalogue or the inventory has been fixed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `iotorino deadletters`."""
    parser.add_argument("--config", required=True, type=Path,
                        help="the collector's TOML file (names the dead-letter file, the pipeline and InfluxDB)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="rejected messages not yet replayed, oldest first, and counts")
    listing.add_argument("--reason", help="only this reason, e.g. out_of_range")
    listing.add_argument("--all", action="store_true", help="include replayed ones")
    show = actions.add_parser("show", help="one rejected message in full")
    show.add_argument("id", type=int)
    again = actions.add_parser("replay", help="run rejected messages through the current pipeline into InfluxDB")
    again.add_argument("--reason", help="only this reason")
    again.add_argument("--id", type=int, help="only this dead letter")


def run(args: argparse.Namespace) -> int:
    """List, show or replay; exit 1 when a shown id does not exist or a replay left messages rejected."""
    from ingest.mqtt import config as collector_config
    from ingest.mqtt.deadletters import DeadLetterStore

    config = collector_config.load(args.config)
    store = DeadLetterStore(config.deadletters_path)
    try:
        if args.action == "list":
            return _list(store, args.reason, args.all)
        if args.action == "show":
            return _show(store, args.id)
        return _replay(store, config, args.reason, args.id)
    finally:
        store.close()


def _list(store, reason: str | None, include_replayed: bool) -> int:
    letters = list(store.list(reason=reason, include_replayed=include_replayed))
    for letter in letters:
        state = " (replayed)" if letter.replayed_ns else ""
        print(f"{letter.id:>6}  {_iso(letter.received_ns)}  {letter.reason:<16} {letter.topic}{state}")
    counts = store.count_by_reason()
    summary = ", ".join(f"{r}: {n}" for r, n in counts.items()) or "none"
    print(f"{len(letters)} listed; not replayed by reason: {summary}")
    return 0


def _show(store, letter_id: int) -> int:
    letter = store.get(letter_id)
    if letter is None:
        print(f"no dead letter with id {letter_id}")
        return 1
    try:
        payload = letter.payload.decode("utf-8")
    except UnicodeDecodeError:
        payload = "(not UTF-8) hex " + letter.payload.hex()
    print(f"id:        {letter.id}\nreceived:  {_iso(letter.received_ns)}\ntopic:     {letter.topic}\n"
          f"reason:    {letter.reason}\nfield:     {letter.field or '-'}\ndetail:    {letter.detail}\n"
          f"replayed:  {_iso(letter.replayed_ns) if letter.replayed_ns else 'no'}\npayload:   {payload}")
    return 0


def _replay(store, config, reason: str | None, letter_id: int | None) -> int:
    from ingest.mqtt.app import build_pipeline, build_writer
    from ingest.mqtt.replay import replay

    writer = build_writer(config)
    try:
        result = replay(store, build_pipeline(config), writer, reason=reason, letter_id=letter_id)
    finally:
        writer.close()
    for letter_id_, why in result.still_rejected:
        print(f"{letter_id_:>6}  still rejected: {why}")
    print(f"replayed {len(result.replayed)}, still rejected {len(result.still_rejected)}")
    return 1 if result.still_rejected else 0


def _iso(time_ns: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time_ns / 1e9)) + f".{time_ns // 1_000_000 % 1000:03d}Z"
