"""`iotorino deadletters list | show | replay`: what an operator sees, and a replay after a fix."""

from __future__ import annotations

import json

import pytest

from ingest.mqtt.deadletters import DeadLetterStore
from iotorino import cli
from iotorino.core.errors import Rejected
from tests.mqtt.streams import points, stored_points, street_stream, write_config

pytestmark = pytest.mark.integration


@pytest.fixture
def letters(tmp_path, influx):
    """A config and a dead-letter file: two messages now acceptable, one still out of range."""
    config = write_config(tmp_path / "collector.toml", mqtt_port=1883, influx_url=influx.settings.url,
                          database=influx.settings.database)
    stream = street_stream(3, seed=61)
    bad_topic, bad_payload, _ = stream[2]
    document = json.loads(bad_payload)
    document["fields"]["pm25"] = -5.0
    store = DeadLetterStore(tmp_path / "deadletters.sqlite")
    # As rejected before the inventory listed the unit (now it does).
    for topic, payload, _ in stream[:2]:
        store.add(topic, payload, Rejected("unknown_device", "unit not in the inventory", field="unit"))
    store.add(bad_topic, json.dumps(document).encode(), Rejected("out_of_range", "value outside", field="pm25",
                                                                  value=-5.0))
    store.close()
    return config, stream


def test_list_shows_reasons_and_counts(letters, capsys):
    config, _ = letters
    assert cli.main(["deadletters", "--config", str(config), "list"]) == 0
    out = capsys.readouterr().out
    assert out.count("unknown_device") == 3 and "out_of_range: 1, unknown_device: 2" in out
    assert cli.main(["deadletters", "--config", str(config), "list", "--reason", "out_of_range"]) == 0
    assert "1 listed" in capsys.readouterr().out


def test_show_prints_the_whole_message(letters, capsys):
    config, stream = letters
    assert cli.main(["deadletters", "--config", str(config), "show", "1"]) == 0
    out = capsys.readouterr().out
    assert stream[0][0] in out and stream[0][1].decode() in out and "unknown_device" in out
    assert cli.main(["deadletters", "--config", str(config), "show", "99"]) == 1


def test_replay_writes_what_the_current_pipeline_accepts_and_keeps_the_rest(letters, influx, capsys, tmp_path):
    config, stream = letters
    assert cli.main(["deadletters", "--config", str(config), "replay", "--reason", "unknown_device"]) == 0
    assert "replayed 2, still rejected 0" in capsys.readouterr().out
    assert stored_points(influx) == points(stream[:2])
    assert cli.main(["deadletters", "--config", str(config), "replay"]) == 1
    out = capsys.readouterr().out
    assert "still rejected: out_of_range" in out and "replayed 0, still rejected 1" in out
    store = DeadLetterStore(tmp_path / "deadletters.sqlite")
    assert store.count_by_reason() == {"out_of_range": 1}
    assert [d.id for d in store.list(include_replayed=True) if d.replayed_ns] == [1, 2]


def test_replay_of_one_id(letters, influx, capsys):
    config, stream = letters
    assert cli.main(["deadletters", "--config", str(config), "replay", "--id", "2"]) == 0
    assert stored_points(influx) == points(stream[1:2])
