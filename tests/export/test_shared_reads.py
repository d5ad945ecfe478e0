"""The day's shared raw reads (`ExportContext.raw_points`, `hourly_stats`) answer what the store answers to each reader alone."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings
from iotorino.export import query
from iotorino.export.model import ExportContext
from iotorino.export.window import HOUR_NS, local_day
from iotorino.testing.city import load_city
from tests.export.helpers import utc

pytestmark = pytest.mark.integration
DAY = date(2026, 10, 25)  # 25 hours: the chunks of a window that starts at 06:00 are not the day's
UNITS = ["TO-SU-0001", "TO-SU-0002", "TO-SC-01"]


@pytest.fixture(scope="module")
def stretch(influxd):
    """Two units and a school from 21:30Z the day before to 06:30Z (the noise day starts at 05:00Z), loaded once."""
    client = InfluxV1Client(InfluxV1Settings(url=influxd.url, database=f"test_{uuid.uuid4().hex[:12]}"))
    client.create_database()
    load_city(client, utc(2026, 10, 24, 21, 30), utc(2026, 10, 25, 6, 30), seed=5, only=UNITS)
    yield client
    client.query(f'DROP DATABASE "{client.settings.database}"', database="")
    client.close()


def as_tuples(rows) -> list[tuple]:
    return [(r.time_ns, dict(r.tags), {k: (None if v is None else float(v)) for k, v in r.values.items()}) for r in rows]


@pytest.mark.parametrize("measurement, fields, tags, offset_h, hours", [
    ("noise", ["laeq"], ["unit", "district"], 7, 24),  # noise_daily's 06:00-06:00 (CET after the change)
    ("noise", ["lamax", "laeq"], ["district", "unit"], 0, 25),
    ("energy", ["total_active_energy_import"], ["school", "meter"], 0, 25),
    ("air_quality", ["pm25"], ["unit"], 3, 2),
])
def test_raw_points_are_the_stores_points_in_its_order(stretch, measurement, fields, tags, offset_h, hours):
    ctx = ExportContext(stretch, local_day(DAY), None)
    start = ctx.window.start_ns + offset_h * HOUR_NS
    end = start + hours * HOUR_NS
    want = as_tuples(query.raw_points(stretch, measurement, fields, tags, start, end, chunk_hours=ctx.chunk_hours))
    got = as_tuples(ctx.raw_points(measurement, fields, tags, start, end))
    assert len(want) > 10
    assert sorted(got, key=lambda r: (sorted(r[1].items()), r[0])) == sorted(want, key=lambda r: (sorted(r[1].items()), r[0]))
    for unit in {tuple(sorted(r[1].items())) for r in want}:  # each series in time order, as the store gives it
        assert [r for r in got if tuple(sorted(r[1].items())) == unit] == [r for r in want if tuple(sorted(r[1].items())) == unit]


def test_readers_of_any_fields_share_one_read_per_chunk(stretch, monkeypatch):
    asked = []
    real = stretch.query_csv
    monkeypatch.setattr(stretch, "query_csv", lambda q, **kw: asked.append(q) or real(q, **kw))
    ctx = ExportContext(stretch, local_day(DAY), None)
    first = ctx.hourly_stats("indoor_climate", ["temperature", "relative_humidity", "co2"], ["school", "room"])
    second = ctx.hourly_stats("indoor_climate", ["co2", "temperature"], ["room", "school"])
    list(ctx.raw_points("indoor_climate", ["co2"], ["school", "room"], ctx.window.start_ns, ctx.window.end_ns))
    assert len(asked) == len(list(query.chunks(ctx.window.start_ns, ctx.window.end_ns, ctx.chunk_hours)))
    alone = query.hourly_stats(stretch, "indoor_climate", ["co2", "temperature"], ["room", "school"],
                               ctx.window.start_ns, ctx.window.end_ns)
    key = lambda r: (sorted(r.tags.items()), r.time_ns)  # noqa: E731
    assert [(r.time_ns, r.tags, r.values) for r in sorted(second, key=key)] == \
        [(r.time_ns, r.tags, r.values) for r in sorted(alone, key=key)]
    assert {k for r in first for k in r.values} >= {k for r in second for k in r.values}
