"""A provisioned directory (pure tests) and the secure stack running as processes (integration tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from iotorino.provision import settings as stack_settings
from iotorino.provision.provision import provision
from iotorino.provision.stack import SecureStack
from iotorino.services import free_port

GATEWAY = "GW-PORTA-NUOVA"


def settings_file(directory: Path, airflow: bool = False) -> Path:
    """A stack settings file with free loopback ports, output in `directory`/stack; Airflow only if asked."""
    ports = [free_port() for _ in range(12)]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "stack.toml"
    path.write_text(f"""
[stack]
output = "{directory / 'stack'}"
[broker]
port = {ports[0]}
certificate_port = {ports[1]}
[influxdb]
port = {ports[2]}
rpc_port = {ports[7]}
retention_policies = [{{name = "raw", duration = "400d", default = true}}, {{name = "hourly", duration = "INF"}}]
[gateways]
ids = ["{GATEWAY}"]
[monitor]
api_port = {ports[5]}
[alerts]
city_port = {ports[9]}
school_port = {ports[10]}
[web]
port = {ports[11]}
[prometheus]
port = {ports[6]}
[airflow]
enabled = {str(airflow).lower()}
health_port = {ports[8]}
[collectors]
replicas = 2
metrics_ports = [{ports[3]}, {ports[4]}]
""")
    return path


@pytest.fixture(scope="session")
def provisioned(tmp_path_factory):
    """The project's inventory provisioned once (files only, no server)."""
    directory = tmp_path_factory.mktemp("provisioned")
    return provision(stack_settings.load(settings_file(directory)))


@pytest.fixture(scope="session")
def secure_stack(tmp_path_factory):
    """`iotorino stack up --secure`'s building block: broker, influxd, two collectors, the beacon monitor and its
    feed, the alert services, the web application over HTTPS and Prometheus, all secured (no Airflow)."""
    directory = tmp_path_factory.mktemp("stack")
    stack = SecureStack(stack_settings.load(settings_file(directory)))
    stack.up()
    yield stack
    stack.down()
