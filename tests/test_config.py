"""Tests for iotorino.core.config: typed tables, errors naming key, value and accepted values, secrets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from iotorino.core import config
from iotorino.core.config import MqttClient, mqtt_client, section, setting
from iotorino.core.errors import ConfigError
from iotorino.core.store.influx_v1 import InfluxV1Settings
from iotorino.core.store.influx_v2 import InfluxV2Settings
from iotorino.export import settings as export_settings


@dataclass(frozen=True)
class Example:
    """A table with one of each kind of key."""

    name: str = setting(check=config.identifier)
    """Required id."""
    count: int = setting(3, check=config.positive(10))
    """1-10."""
    ratio: float = 0.5
    """Any number."""
    on: bool = False
    """A switch."""
    where: Path = Path("here")
    """A path."""


def test_a_table_is_typed_and_defaults_fill_the_rest() -> None:
    built = section(Example, {"name": "GW-1", "ratio": 2, "where": "there"}, "example")
    assert built == Example("GW-1", 3, 2.0, False, Path("there")) and isinstance(built.ratio, float)


@pytest.mark.parametrize("found, key, words", [
    ({}, "example.name", "is required"),
    ({"name": "GW 1"}, "example.name", "'GW 1' is not a usable id (accepted: 1-63 letters"),
    ({"name": "G", "count": 11}, "example.count", "invalid value 11 (accepted: a number > 0 and <= 10)"),
    ({"name": "G", "count": True}, "example.count", "expected an integer, got True"),
    ({"name": "G", "count": 2.5}, "example.count", "expected an integer, got 2.5"),
    ({"name": "G", "on": "yes"}, "example.on", "expected true or false, got 'yes'"),
    ({"name": "G", "cont": 2}, "example.cont", "unknown key (accepted: example.count, example.name"),
])
def test_errors_name_key_value_and_accepted(found: dict, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        section(Example, found, "example")
    assert caught.value.key == key and words in str(caught.value)


def test_the_password_comes_from_a_variable_or_a_file_and_never_shows(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("IOTORINO_TEST_PW", "hunter2")
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    from_env = mqtt_client({"mqtt": {"username": "u", "password_env": "IOTORINO_TEST_PW"}})
    from_file = mqtt_client({"mqtt": {"username": "u", "password_file": str(secret)}})
    assert (from_env.password, from_file.password) == ("hunter2", "s3cret")
    assert "hunter2" not in repr(from_env) and "s3cret" not in repr(from_file)


@pytest.mark.parametrize("keys, key, words", [
    ({"password_env": "A", "password_file": "/x"}, "mqtt.password_file", "one of the two"),
    ({"password_file": "/nonexistent/pw"}, "mqtt.password_file", "cannot read '/nonexistent/pw'"),
    ({"password_env": "IOTORINO_NOT_SET_ANYWHERE"}, "mqtt.password_env", "is not set"),
    ({"ca_file": "/nonexistent/ca.pem", "tls": True}, "mqtt.ca_file", "does not exist"),
    ({"ca_file": "{ca}"}, "mqtt.ca_file", "tls is false"),
    ({"tls": True, "key_file": "{ca}"}, "mqtt.key_file", "without cert_file"),
    ({"port": 0}, "mqtt.port", "1-65535"),
    ({"hots": "x"}, "mqtt.hots", "mqtt.host"),
])
def test_mqtt_section_mistakes_are_named(keys: dict, key: str, words: str, tmp_path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    keys = {k: v.format(ca=ca) if isinstance(v, str) else v for k, v in keys.items()}
    with pytest.raises(ConfigError) as caught:
        mqtt_client({"mqtt": keys})
    assert caught.value.key == key and words in str(caught.value)


def test_configure_paho_sets_credentials_and_tls_on_a_real_client(tmp_path, monkeypatch) -> None:
    import paho.mqtt.client as mqtt
    from tests.tls import make_certificates

    certs = make_certificates(tmp_path)
    monkeypatch.setenv("IOTORINO_TEST_PW", "hunter2")
    settings = mqtt_client({"mqtt": {"username": "u", "password_env": "IOTORINO_TEST_PW", "tls": True,
                                     "ca_file": str(certs["ca"]), "cert_file": str(certs["cert"]),
                                     "key_file": str(certs["key"])}})
    client = settings.configure_paho(mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="t"))
    assert client.username == "u" and client.password == "hunter2" and client._ssl
    plain = MqttClient().configure_paho(mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="p"))
    assert plain.username is None and not plain._ssl


def test_influx_table_gives_v1_or_v2_settings(monkeypatch) -> None:
    monkeypatch.setenv("IOTORINO_TEST_TOKEN", "t0ken")
    assert config.influx({}) == InfluxV1Settings("http://127.0.0.1:8086", "iotorino")
    v2 = config.influx({"api": "v2", "org": "o", "bucket": "b", "token_env": "IOTORINO_TEST_TOKEN"})
    assert v2 == InfluxV2Settings("http://127.0.0.1:8086", "o", "b", "t0ken") and "t0ken" not in repr(v2)


@pytest.mark.parametrize("found, key, words", [
    ({"api": "v3"}, "influxdb.api", "v1, v2"),
    ({"api": "v2", "org": "o"}, "influxdb.bucket", "required"),
    ({"api": "v2", "org": "o", "bucket": "b", "database": "x"}, "influxdb.database", "api = 'v1'"),
    ({"timeout_s": 0}, "influxdb.timeout_s", "> 0"),
])
def test_influx_mistakes_are_named(found: dict, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.influx(found)
    assert caught.value.key == key and words in str(caught.value)


def test_export_settings_come_from_the_environment_with_the_variable_named_in_errors(tmp_path) -> None:
    env = {"IOTORINO_INFLUX_URL": "https://db:8086", "IOTORINO_INFLUX_TIMEOUT_S": "2.5",
           "IOTORINO_INFLUX_PASSWORD": "s3cr3t-pw", "IOTORINO_EXPORT_DIR": str(tmp_path)}
    loaded = export_settings.from_env(env)
    assert (loaded.url, loaded.timeout_s, loaded.export_dir, loaded.password) == ("https://db:8086", 2.5, tmp_path, "s3cr3t-pw")
    assert "s3cr3t-pw" not in repr(loaded)
    assert export_settings.influx_from_env({}).database == "iotorino"
    with pytest.raises(ConfigError) as caught:
        export_settings.from_env({"IOTORINO_INFLUX_TIMEOUT_S": "soon"})
    assert caught.value.key == "IOTORINO_INFLUX_TIMEOUT_S" and "'soon'" in str(caught.value)


def test_a_missing_or_broken_file_is_named(tmp_path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        config.read_toml(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[mqtt\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        config.read_toml(broken)
