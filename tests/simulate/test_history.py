"""The bulk school history: the same points the MQTT collector stores from the same simulation, and all of them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from iotorino.core import catalogue, inventory, lineprotocol
from iotorino.export.window import to_ns
from iotorino.simulate import history, iter_messages
from iotorino.simulate.generator import count_messages
from iotorino.simulate.period import TURIN

START = datetime(2026, 1, 12, 6, 0, tzinfo=TURIN)  # a winter school day: heating, lessons, meters turning
END = START + timedelta(hours=3)
SCHOOL = "TO-SC-07"


def collector_lines(start: datetime, end: datetime) -> set[str]:
    """What the collector's pipeline makes of the simulator's fault-free messages of one school."""
    pipeline = history._collector_pipeline()
    lines = set()
    for message in iter_messages(inventory.default(), catalogue.default(), start, end, 1, 0.0):
        if message.topic.split("/")[3] == SCHOOL:
            lines.update(lineprotocol.encode(r) for r in pipeline.process(message.topic, message.payload,
                                                                           to_ns(message.sim_time)))
    return lines


def test_bulk_lines_are_the_collectors_lines():
    bulk = {line for stream in history.school_streams([SCHOOL]) for line in history.stream_lines(stream, 1, START, END)}
    expected = collector_lines(START, END)
    assert len(expected) > 100 and bulk == expected
    measurements = {line.split(",", 1)[0] for line in bulk}
    assert measurements == {"indoor_climate", "energy", "heat", "outdoor_climate"}


@pytest.mark.integration
def test_load_writes_every_point_of_the_period(influx):
    loaded = history.load(influx.settings, START, END, 1, only=[SCHOOL], jobs=2)
    streams = history.school_streams([SCHOOL])
    assert loaded.schools == 1 and loaded.streams == len(streams)
    every = count_messages(inventory.default(), catalogue.default(), START, END, 1)
    assert 0 < loaded.points < every  # one school of the fleet
    counted = 0
    for name, field in (("indoor_climate", "co2"), ("energy", "total_active_energy_import"), ("heat", "heat_energy"),
                        ("outdoor_climate", "temperature")):
        series = influx.query(f'SELECT count("{field}") FROM "{name}" WHERE "school" = \'{SCHOOL}\'')
        counted += series[0]["values"][0][1] if series else 0
    assert counted == loaded.points == len(collector_lines(START, END))
