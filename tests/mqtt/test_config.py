"""Collector configuration: the sample is valid, and every error names its key."""

from pathlib import Path

import pytest

from ingest.mqtt import config
from iotorino.core.errors import ConfigError

SAMPLE = Path(__file__).resolve().parents[2] / "ingest" / "mqtt" / "sample.toml"
MINIMAL = {"subscriptions": [{"topic": "iotorino/v1/#"}]}


def test_sample_config_loads_with_documented_defaults():
    loaded = config.load(SAMPLE)
    assert loaded.mqtt.client_id == "iotorino-collector" and loaded.routes[0].format == "native"
    assert loaded.deadletters_path.name == "deadletters.sqlite"


@pytest.mark.parametrize("raw, key, words", [
    ({}, "subscriptions", "at least one"),
    ({"subscriptions": [{"topic": "a/#", "format": "xml"}]}, "subscriptions[0].format", "native"),
    ({**MINIMAL, "mqtt": {"port": 70000}}, "mqtt.port", "1-65535"),
    ({**MINIMAL, "mqtt": {"client_id": ""}}, "mqtt.client_id", "persistent session"),
    ({**MINIMAL, "mqtt": {"hots": "x"}}, "mqtt.hots", "mqtt.host"),
    ({**MINIMAL, "mqtt": {"password_env": "IOTORINO_NOT_SET_ANYWHERE"}}, "mqtt.password_env", "not set"),
    ({**MINIMAL, "influxdb": {"url": "localhost:8086"}}, "influxdb.url", "http://"),
    ({**MINIMAL, "batch": {"max_readings": 0}}, "batch.max_readings", "> 0"),
    ({**MINIMAL, "mqtt": {"share_group": "a/b"}}, "mqtt.share_group", "without"),
    ({**MINIMAL, "mqtt": {"receive_maximum": 1000}}, "mqtt.receive_maximum", "at least 10000"),
])
def test_errors_name_the_key_and_accepted_values(raw, key, words):
    with pytest.raises(ConfigError) as caught:
        config.from_dict(raw)
    assert caught.value.key == key and words in str(caught.value)


def test_password_comes_from_the_environment_and_is_not_shown(monkeypatch):
    monkeypatch.setenv("IOTORINO_TEST_PW", "hunter2")
    loaded = config.from_dict({**MINIMAL, "influxdb": {"password_env": "IOTORINO_TEST_PW"},
                               "mqtt": {"password_env": "IOTORINO_TEST_PW"}})
    assert loaded.influx.password == "hunter2" and loaded.mqtt.password == "hunter2"
    assert "hunter2" not in repr(loaded)
