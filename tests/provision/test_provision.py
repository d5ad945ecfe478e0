"""`iotorino provision`'s files: users and ACL from the inventory, secrets kept private, rotation of one device."""

from __future__ import annotations

import csv
import io
import stat

import pytest
import tomllib

from iotorino.core import inventory
from iotorino.core.errors import ConfigError
from iotorino.provision import settings as stack_settings
from iotorino.provision.provision import provision, rotate
from iotorino.provision.principals import acl_file, all_principals

FLEET = inventory.default()


def _acl_blocks(text: str) -> dict[str, list[str]]:
    blocks: dict[str, list[str]] = {}
    user = None
    for line in text.splitlines():
        if line.startswith("user "):
            user = line[5:]
            blocks[user] = []
        elif line.startswith("topic "):
            assert user is not None, "a topic line outside a user block applies to anonymous clients"
            blocks[user].append(line)
    return blocks


def test_one_user_per_device_gateway_and_service(provisioned):
    names = {p.name for p in provisioned.principals}
    points = sum(len(s.rooms) + len(s.meters) + 1 for s in FLEET.schools.values())
    assert len(names) == len(provisioned.principals) == len(FLEET.street_units) + points + 1 + 5
    assert set(FLEET.street_units) <= names
    assert {"collector", "monitor", "alerts-city", "alerts-school", "web", "GW-PORTA-NUOVA"} <= names


def test_each_service_reads_what_it_subscribes_to_and_writes_only_its_own_topics(provisioned):
    """The alert services' ACL entries are exactly the topics their scope subscribes to; each writes only its
    own iotorino/alerts/<scope>/ tree; the web application only reads the alerts."""
    from types import SimpleNamespace

    from iotorino.alerts.service import city_scope, school_scope

    blocks = _acl_blocks((provisioned.output / "mosquitto" / "acl").read_text())
    evaluator = SimpleNamespace(feed=None, advance=None)  # only the scopes' topics are looked at
    for scope in (city_scope(evaluator), school_scope(evaluator)):
        assert blocks[f"alerts-{scope.name}"] == [f"topic write iotorino/alerts/{scope.name}/#"] + [
            f"topic read {topic}" for topic in scope.topics]
    assert blocks["web"] == ["topic read iotorino/alerts/#"]


def test_acl_gives_each_device_its_own_topics_only(provisioned):
    blocks = _acl_blocks((provisioned.output / "mosquitto" / "acl").read_text())
    for unit in FLEET.street_units.values():
        expected = [f"topic write iotorino/v1/street/{unit.id}/{m}" for m in FLEET.profiles[unit.profile].measurements]
        assert blocks[unit.id] == expected
    school = next(iter(FLEET.schools.values()))
    assert blocks[f"{school.id}.outdoor"] == [
        f"topic write iotorino/v1/school/{school.id}/outdoor/{m}"
        for m in FLEET.profiles[school.outdoor_profile].measurements]


def test_only_the_collector_may_read_the_native_tree_and_nobody_everything(provisioned):
    blocks = _acl_blocks((provisioned.output / "mosquitto" / "acl").read_text())
    readers = {user for user, lines in blocks.items() if any(line.startswith("topic read iotorino/v1/#")
                                                            or line.endswith("/iotorino/v1/#") for line in lines)}
    assert readers == {"collector"}
    assert not any(line.split()[-1] == "#" for lines in blocks.values() for line in lines)
    assert not any("readwrite" in line or line.count(" ") < 2 for lines in blocks.values() for line in lines)
    assert not any(line.startswith("topic write") for line in blocks["collector"])


def test_secrets_are_private_and_never_in_generated_config(provisioned):
    secrets_dir = provisioned.output / "secrets"
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in secrets_dir.iterdir()} == {0o600}
    assert stat.S_IMODE((provisioned.output / "tls" / "server.key").stat().st_mode) == 0o600
    values = [row["password"] for row in csv.DictReader(io.StringIO((secrets_dir / "devices.csv").read_text()))]
    values += [p.read_text() for p in secrets_dir.iterdir() if p.name.startswith(("mqtt-", "influx-"))]
    config = "".join(p.read_text() for p in provisioned.output.rglob("*")
                     if p.is_file() and "secrets" not in p.parts and p.suffix != ".key")
    assert len(values) > 900 and not any(value in config for value in values)
    assert "password_env" in (provisioned.output / "collector-1.toml").read_text()


def test_rerunning_keeps_every_secret_and_rotation_changes_one_device(provisioned):
    settings = provisioned.settings
    passwords = provisioned.output / "mosquitto" / "passwords"
    before_csv = (provisioned.output / "secrets" / "devices.csv").read_text()
    provision(settings)
    assert (provisioned.output / "secrets" / "devices.csv").read_text() == before_csv
    before_hashes = dict(line.split(":", 1) for line in passwords.read_text().splitlines())
    unit = sorted(FLEET.street_units)[0]
    rotate(settings, unit)
    after_csv = (provisioned.output / "secrets" / "devices.csv").read_text().splitlines()
    assert {line.split(",")[0] for line in set(after_csv) ^ set(before_csv.splitlines())} == {unit}
    after_hashes = dict(line.split(":", 1) for line in passwords.read_text().splitlines())
    assert after_hashes.keys() == before_hashes.keys()
    assert {user for user in after_hashes if after_hashes[user] != before_hashes[user]} == {unit}


def test_rotating_an_unknown_device_names_it(provisioned):
    with pytest.raises(Exception, match="TO-SU-9999"):
        rotate(provisioned.settings, "TO-SU-9999")


@pytest.mark.parametrize("data, key", [
    ({"broker": {"port": 0}}, "broker.port"),
    ({"broker": {"colour": 1}}, "broker.colour"),
    ({"influxdb": {"retention_policies": [{"name": "raw", "duration": "1y", "default": True}]}},
     "influxdb.retention_policies[0]"),
    ({"gateways": {"ids": ["GW/1"]}}, "gateways.ids"),
    ({"collectors": {"replicas": 3}}, "collectors.replicas"),
    ({"gateways": {"ids": ["GW-1"], "places": {"GW-1": {"lon": 7.7, "lat": 95}}}}, "gateways.places.GW-1"),
    ({"gateways": {"ids": ["GW-1"], "places": {"GW-2": {"lon": 7.7, "lat": 45}}}}, "gateways.places"),
    ({"web": {"port": 70000}}, "web.port"),
    ({"alerts": {"school_port": "8097"}}, "alerts.school_port"),
    ({"monitor": {"metrics_port": 9466}}, "monitor.metrics_port"),
])
def test_settings_errors_name_the_key(data, key):
    with pytest.raises(ConfigError) as error:
        stack_settings.from_dict(data)
    assert error.value.key == key


def test_the_monitor_knows_where_each_gateway_stands(tmp_path, monkeypatch):
    from iotorino.beacons import config as monitor_config
    from iotorino.provision import render

    settings = stack_settings.from_dict({"stack": {"output": str(tmp_path)}, "gateways": {
        "ids": ["GW-1", "GW-2"], "places": {"GW-1": {"lon": 7.6784, "lat": 45.0621}}}})
    (tmp_path / "tls").mkdir()
    (tmp_path / "tls" / "ca.pem").write_text("a CA")
    text = render.monitor_toml(settings, render.local(settings))
    monkeypatch.setenv(render.MQTT_PASSWORD_ENV, "unused")
    monkeypatch.setenv(render.INFLUX_PASSWORD_ENV, "unused")
    loaded = monitor_config.parse(tomllib.loads(text), tmp_path)  # the monitor's own loader accepts it
    assert loaded.gateways == {"GW-1": (7.6784, 45.0621)}
    assert (loaded.mqtt.username, loaded.mqtt.tls, loaded.influx.username) == ("monitor", True, "monitor")


def test_acl_has_no_anonymous_section():
    principals = all_principals(FLEET, stack_settings.from_dict({}))
    text = acl_file(principals)
    first = next(line for line in text.splitlines() if line and not line.startswith("#"))
    assert first.startswith("user ")
