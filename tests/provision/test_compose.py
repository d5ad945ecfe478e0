"""docker-compose.yml is valid, hardened, and runs the same generated configuration as `iotorino stack`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
import tomllib
import yaml

from iotorino.core import paths
from iotorino.provision import render

COMPOSE = shutil.which("docker-compose")
pytestmark = pytest.mark.skipif(COMPOSE is None, reason="Debian's docker-compose (scripts/setup.sh) is missing")
ONE_SHOT = {"influxdb-setup", "airflow-init"}


def _volumes(service: dict) -> list[tuple[str, str, str]]:
    """(source, target, mode) of each mount; docker-compose 1.29 prints the short "src:target:mode" form."""
    found = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            found.append((volume["source"], volume["target"], "ro" if volume.get("read_only") else "rw"))
        else:
            source, target, *mode = volume.split(":")
            found.append((source, target, (mode or ["rw"])[0]))
    return found


def _config(file: str, provisioned_dir) -> dict:
    """The file as docker-compose resolves it (anchors merged, variables substituted), without a daemon."""
    env = dict(os.environ, IOTORINO_PROVISIONED=str(provisioned_dir))
    result = subprocess.run([COMPOSE, "-f", file, "config"], cwd=paths.ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def compose(provisioned):
    return _config("docker-compose.yml", provisioned.output)


def test_the_quick_local_file_is_valid_too(provisioned):
    local = _config("docker-compose.local.yml", provisioned.output)
    ports = [str(port) for s in local["services"].values() for port in s.get("ports", [])]
    assert ports and all(port.startswith("127.0.0.1:") for port in ports), ports


def test_every_service_is_hardened(compose):
    services = compose["services"]
    assert {"mosquitto", "influxdb", "collector-1", "collector-2", "monitor", "alerts-city", "alerts-school", "web",
            "postgres", "airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "prometheus"} <= set(services)
    for name, service in services.items():
        user = str(service.get("user", ""))
        assert user and not user.startswith(("0", "root")), name
        assert service["logging"]["options"] == {"max-size": "10m", "max-file": "5"}, name
        if name in ONE_SHOT:
            assert service["restart"] == "no"
            continue
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"], name
        for source, target, mode in _volumes(service):
            if "/" not in source:
                assert source in compose["volumes"], name
            else:
                assert mode == "ro", f"{name} writes to the host at {target}"
    read_only = {name for name, s in services.items() if s.get("read_only")}
    assert {"mosquitto", "influxdb", "collector-1", "collector-2", "monitor", "alerts-city", "alerts-school", "web",
            "prometheus"} <= read_only


def test_only_tls_ports_are_published(compose):
    """The broker's TLS listeners and the web application's HTTPS; nothing else leaves the internal network."""
    published = {name: [p["target"] if isinstance(p, dict) else int(str(p).rsplit(":", 1)[1])
                        for p in s.get("ports", [])] for name, s in compose["services"].items()}
    assert {name: ports for name, ports in published.items() if ports} == {"mosquitto": [8883, 8884], "web": [8443]}
    assert "--ssl-certfile" in compose["services"]["web"]["command"]


def test_secrets_are_docker_secrets_from_the_provisioned_files(compose, provisioned):
    for name, secret in compose["secrets"].items():
        assert secret["file"].startswith(str(provisioned.output)), name
        assert os.path.exists(secret["file"]), f"provisioning did not write {secret['file']}"
    for name, service in compose["services"].items():
        granted = {s["source"] for s in service.get("secrets", [])}
        env = service.get("environment", {}) or {}
        for key, value in env.items():
            assert not re.search(r"PASSWORD$|SECRET$|TOKEN$", key), f"{name}: {key} given in clear"
            if key.endswith("_FILE"):
                assert value.startswith("/run/secrets/") and value.rsplit("/", 1)[1] in granted, (name, key)
    text = (paths.ROOT / "docker-compose.yml").read_text()
    assert not any(p.read_text().strip() in text for p in (provisioned.output / "secrets").iterdir()
                   if p.name != "devices.csv")


def _mount(service: dict, target: str) -> str:
    for source, mounted, _ in _volumes(service):
        if mounted == target:
            return source
    raise AssertionError(f"nothing mounted at {target}")


def test_compose_runs_the_provisioned_configuration(compose, provisioned):
    """Each container reads the very files provisioning wrote, at the paths those files name."""
    root = render.COMPOSE.config_root
    services = compose["services"]
    mosquitto = services["mosquitto"]
    assert mosquitto["command"] == ["mosquitto", "-c", f"{root}/mosquitto/mosquitto.conf"]
    assert _mount(mosquitto, f"{root}/mosquitto") == str(provisioned.output / "mosquitto")
    conf = (provisioned.output / "mosquitto" / "mosquitto.conf").read_text()
    for path in re.findall(r"^(?:password_file|acl_file|cafile|certfile) (\S+)", conf, re.M):
        directory, _, _ = path.rpartition("/")
        assert path.startswith(root) and (path in {t for _, t, _ in _volumes(mosquitto)}
                                          or directory in {t for _, t, _ in _volumes(mosquitto)}), path
    assert {s["target"] for s in mosquitto["secrets"]} == {f"{root}/tls/server.key"}
    for replica in (1, 2):
        service = services[f"collector-{replica}"]
        config_path = f"{root}/collector-{replica}.toml"
        assert service["command"][-1] == config_path
        assert _mount(service, config_path) == str(provisioned.output / f"collector-{replica}.toml")
        toml = tomllib.loads((provisioned.output / f"collector-{replica}.toml").read_text())
        assert {toml["mqtt"]["password_env"] + "_FILE", toml["influxdb"]["password_env"] + "_FILE"} == \
            set(service["environment"])
        assert toml["mqtt"]["ca_file"] == f"{root}/tls/ca.pem"
        assert _mount(service, f"{root}/tls/ca.pem") == str(provisioned.output / "tls" / "ca.pem")
        metrics_port = toml["metrics"]["listen"].rsplit(":", 1)[1]
        assert f"127.0.0.1:{metrics_port}/readyz" in " ".join(service["healthcheck"]["test"])
    settings = provisioned.settings
    commands = {"monitor": ["beacons", "serve", "--config", f"{root}/monitor.toml"],
                "alerts-city": render.alerts_command(settings, render.COMPOSE, "city"),
                "alerts-school": render.alerts_command(settings, render.COMPOSE, "school"),
                "web": render.web_command(settings, render.COMPOSE)}
    for name, command in commands.items():
        service = services[name]
        assert service["command"] == ["iotorino", *command], name
        config_path = command[command.index("--config") + 1]
        assert _mount(service, config_path) == str(provisioned.output / config_path.rsplit("/", 1)[1])
        toml = tomllib.loads((provisioned.output / config_path.rsplit("/", 1)[1]).read_text())
        assert toml["mqtt"]["ca_file"] == f"{root}/tls/ca.pem" and toml["mqtt"]["username"] == name, name
        assert _mount(service, f"{root}/tls/ca.pem") == str(provisioned.output / "tls" / "ca.pem")
        # Every password the config names comes from a Docker secret of that service's own user.
        for table in ("mqtt", "influxdb"):
            if table in toml:
                secret = f"/run/secrets/{'mqtt' if table == 'mqtt' else 'influx'}-{toml[table]['username']}"
                assert service["environment"][toml[table]["password_env"] + "_FILE"] == secret, (name, table)
    web = services["web"]
    assert _mount(web, f"{root}/tls/web.pem") == str(provisioned.output / "tls" / "web.pem")
    assert {s.get("target") for s in web["secrets"]} == {None, f"{root}/tls/web.key"}
    assert compose["secrets"]["web-key"]["file"] == str(provisioned.output / "tls" / "web.key")
    environment = {k: v for k, v in web["environment"].items() if not k.endswith("_FILE")}
    assert environment == render.web_environment(settings, render.COMPOSE)
    assert web["environment"]["IOTORINO_INFLUX_PASSWORD_FILE"] == "/run/secrets/influx-web"
    assert _mount(web, environment["IOTORINO_EXPORT_DIR"]) == "exports"
    assert all(_mount(services[a], environment["IOTORINO_EXPORT_DIR"]) == "exports"
               for a in ("airflow-scheduler", "airflow-dag-processor"))
    assert services["airflow-scheduler"]["environment"]["IOTORINO_EXPORT_DIR"] == environment["IOTORINO_EXPORT_DIR"]
    influx = services["influxdb"]
    assert influx["command"][-1] == f"{root}/influxdb/influxdb.conf"
    assert _mount(influx, f"{root}/influxdb") == str(provisioned.output / "influxdb")
    assert _mount(services["prometheus"], f"{root}/prometheus") == str(provisioned.output / "prometheus")


def _normalised(text: str, target: render.Target) -> str:
    """A rendering with the target's paths, addresses and host names replaced by placeholders."""
    # influxd's backup RPC listens on loopback in both targets (the top-level, unindented bind-address).
    text = re.sub(r'^bind-address = "127\.0\.0\.1:', 'bind-address = "<LOOPBACK>:', text, flags=re.M)
    # Locally the broker, the servers' address and every service host are 127.0.0.1: one placeholder.
    for value, name in ((target.state_root, "<STATE>"), (target.config_root, "<CONFIG>"),
                        (target.influx_url, "<INFLUX>"), (f'"{target.broker_host}"', '"<HOST>"'),
                        (f'"{target.bind}"', '"<HOST>"'), (f" {target.bind}", " <HOST>"), (f'"{target.bind}:', '"<HOST>:')):
        text = text.replace(value, name)
    text = re.sub(r"^user .*\n", "", text, flags=re.M)
    # Ports are per target too (standard ones in containers, the settings' ones locally).
    return re.sub(r"(listener |port = |:|--port |--http-port )\d+", r"\1<PORT>", text)


def test_the_process_stack_renders_the_same_configuration(provisioned):
    """Local processes and containers differ only in paths, addresses and host names: authentication,
    ACL, TLS, users and secrets are the same text."""
    settings = provisioned.settings
    local = render.local(settings)
    for render_one in (render.mosquitto_conf, render.influxdb_conf,
                       lambda s, t: render.collector_toml(s, t, 0), lambda s, t: render.collector_toml(s, t, 1),
                       render.monitor_toml, render.web_toml,
                       lambda s, t: render.alerts_toml(s, t, "city"), lambda s, t: render.alerts_toml(s, t, "school"),
                       lambda s, t: " ".join(render.alerts_command(s, t, "city")),
                       lambda s, t: " ".join(render.web_command(s, t)),
                       lambda s, t: json.dumps(render.web_environment(s, t))):
        assert _normalised(render_one(settings, local), local) == \
            _normalised(render_one(settings, render.COMPOSE), render.COMPOSE)
    # And the compose files on disk are the compose rendering of the same settings.
    assert (provisioned.output / "mosquitto" / "mosquitto.conf").read_text() == \
        render.mosquitto_conf(settings, render.COMPOSE)
    assert "require_certificate true" in render.mosquitto_conf(settings, local)
