"""Simulated school history written straight into the store: weeks or a year in minutes, not over MQTT.

The school dashboards need history (a year for the yearly KPIs, a week for the
demo); publishing a year over MQTT at the collector's pace would take hours.
This writes what the collector would have stored from the same simulation:

- the values are the simulator's own (`generator.stream_fields`: the same models,
  seeds and report instants as `iter_messages` without faults);
- each stream's measurement and tags come from passing its first message through
  the MQTT collector's own pipeline, so the series are exactly the collector's;
- the points go to InfluxDB as line protocol in large bodies, one stream at a
  time, the streams shared among `jobs` processes.

Only the schools' devices are written (classrooms, meters, outdoor stations);
`only` keeps the schools whose ids it names.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Iterable, Iterator

from iotorino.core.lineprotocol import escape_key, field_value, series_head
from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings
from iotorino.simulate import generator
from iotorino.simulate.period import to_ms

BODY_BYTES = 4_000_000  # one write request: large enough to be cheap, small enough for influxd's defaults


@dataclass(frozen=True)
class Loaded:
    """What a load wrote: streams and points, and the schools they belong to."""

    streams: int
    points: int
    schools: int


def school_streams(only: Iterable[str] = ()) -> list[generator.Stream]:
    """The simulated streams of the schools' devices (of the schools in `only`, when given)."""
    from iotorino.core import catalogue, inventory

    keep = set(only)
    streams = []
    for stream in generator.plan(inventory.default(), catalogue.default()):
        parts = stream.topic.split("/")
        if parts[2] == "school" and (not keep or parts[3] in keep):
            streams.append(stream)
    return streams


def stream_lines(stream: generator.Stream, seed: int, start: datetime, end: datetime) -> Iterator[str]:
    """The stream's points in [start, end) as lines of line protocol, as the collector would write them."""
    start_ms, end_ms = to_ms(start), to_ms(end)
    head = None
    for ms, fields in generator.stream_fields(stream, seed, start_ms, end_ms):
        if head is None:
            head = _series_of(stream.topic, ms, fields)
        values = ",".join(f"{escape_key(k)}={field_value(v)}" for k, v in fields.items())
        yield f"{head} {values} {ms * 1_000_000}"


def _series_of(topic: str, ms: int, fields: dict[str, float]) -> str:
    """`measurement,tags` of a stream, from the collector's own pipeline applied to one of its messages."""
    (reading,) = _collector_pipeline().process(topic, generator.encode(ms, fields), ms * 1_000_000)
    return series_head(reading.measurement, reading.tags)


@lru_cache(maxsize=1)
def _collector_pipeline():
    """The MQTT collector's pipeline for native topics, as `iotorino collect mqtt` builds it."""
    from ingest.mqtt import config as collector_config
    from ingest.mqtt.app import build_pipeline

    return build_pipeline(collector_config.from_dict({"subscriptions": [{"topic": "iotorino/v1/#", "format": "native"}]}))


def load(settings: InfluxV1Settings, start: datetime, end: datetime, seed: int = 1, only: Iterable[str] = (),
         jobs: int = 1) -> Loaded:
    """Write the schools' simulated points of [start, end) into the store at `settings`, in `jobs` processes."""
    streams = school_streams(only)
    topics = [s.topic for s in streams]
    shares = [topics[i::jobs] for i in range(max(1, jobs))]
    if jobs <= 1:
        points = _load_topics(settings, topics, start, end, seed, tuple(only))
    else:
        with ProcessPoolExecutor(jobs) as pool:
            points = sum(pool.map(_load_topics, [settings] * jobs, shares, [start] * jobs, [end] * jobs,
                                  [seed] * jobs, [tuple(only)] * jobs))
    return Loaded(len(streams), points, len({t.split("/")[3] for t in topics}))


def _load_topics(settings: InfluxV1Settings, topics: list[str], start: datetime, end: datetime, seed: int,
                 only: tuple[str, ...]) -> int:
    """Write the streams named by `topics`; the number of points written."""
    wanted = set(topics)
    client = InfluxV1Client(settings)
    written = 0
    body: list[str] = []
    size = 0
    try:
        for stream in school_streams(only):
            if stream.topic not in wanted:
                continue
            for line in stream_lines(stream, seed, start, end):
                body.append(line)
                size += len(line) + 1
                if size >= BODY_BYTES:
                    client.write_lines("\n".join(body).encode())
                    written += len(body)
                    body, size = [], 0
        if body:
            client.write_lines("\n".join(body).encode())
            written += len(body)
    finally:
        client.close()
    return written
