"""`iotorino beacons serve` configuration: the commented sample loads; mistakes name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from iotorino.beacons import config
from iotorino.core.errors import ConfigError

SAMPLE = Path(__file__).resolve().parents[2] / "iotorino" / "beacons" / "sample.toml"


def test_the_sample_loads():
    loaded = config.load(SAMPLE)
    assert loaded.influx.database == "iotorino" and loaded.monitor.restore_quiet_s == 1.0
    assert loaded.gateways["GW-PORTA-NUOVA"] == (7.6784, 45.0621)


@pytest.mark.parametrize("raw, key", [
    ({"monitor": {"restore_quiet_s": 0}}, "monitor.restore_quiet_s"),
    ({"influxdb": {"api": "v2", "org": "o", "bucket": "b"}}, "influxdb.api"),
    ({"influxdb": {"databse": "x"}}, "influxdb.databse"),
])
def test_mistakes_name_the_key(raw, key, tmp_path):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        config.parse(raw, tmp_path)


def test_without_influxdb_there_is_no_store(tmp_path):
    assert config.parse({}, tmp_path).influx is None
