"""`iotorino decode --topic T [--format F] < payload`: the operator's "why was my message rejected?"."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ingest.mqtt.formats import DEFAULT_TOPICS, FORMATS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `iotorino decode`."""
    parser.add_argument("--topic", required=True, help="the MQTT topic the payload arrived on")
    parser.add_argument("--format", choices=sorted(FORMATS),
                        help="payload format (default: the format of the route matching the topic)")
    parser.add_argument("--config", type=Path, help="collector config for routes and limits (default: built-in)")


def run(args: argparse.Namespace) -> int:
    """Print line protocol on stdout and any quarantined values on stderr (exit 0), or the rejection (exit 1)."""
    from ingest.mqtt import config as collector_config
    from ingest.mqtt.app import build_pipeline
    from iotorino.core.errors import Rejected
    from iotorino.core.lineprotocol import encode

    if args.config:
        config = collector_config.load(args.config)
    else:
        routes = [{"topic": topic, "format": fmt} for fmt, topic in DEFAULT_TOPICS.items()]
        config = collector_config.from_dict({"subscriptions": routes})
    payload = sys.stdin.buffer.read()
    try:
        decoded = build_pipeline(config).decode(args.topic, payload, time.time_ns(), args.format)
    except Rejected as rejection:
        print(f"rejected: {rejection.describe()}", file=sys.stderr)
        return 1
    for reading in decoded.readings:
        flag = "  # no device time: receive time used" if reading.time_is_fallback else ""
        print(encode(reading) + flag)
    for value in decoded.rejected:  # field-level quarantine: the rest of the message is stored
        print(f"quarantined: {value.describe()}", file=sys.stderr)
    return 0
