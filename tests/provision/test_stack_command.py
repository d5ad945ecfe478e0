"""`iotorino stack up --secure`, `status` and `down` as an operator runs them, and the two collectors sharing the load."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from iotorino.core import inventory
from iotorino.provision import settings as stack_settings
from iotorino.provision.secrets import SecretStore
from tests.provision.clients import Session
from tests.provision.conftest import settings_file

pytestmark = pytest.mark.integration

FLEET = inventory.default()
MESSAGES = 400


def _iotorino(python, cli_env, *args) -> subprocess.CompletedProcess:
    return subprocess.run([python, "-m", "iotorino", *args], env=cli_env, capture_output=True, text=True, timeout=600)


def _received(port: int) -> float:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    found = re.search(r"^iotorino_messages_received_total (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def _processes_naming(directory: Path) -> list[str]:
    """Pids whose command line or environment (AIRFLOW_HOME) names `directory`."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if str(directory).encode() in (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes():
                found.append(proc.name)
        except OSError:
            pass
    return found


def test_stack_command_up_status_down(python, cli_env, tmp_path):
    config = settings_file(tmp_path, airflow=True)
    settings = stack_settings.load(config)
    refused = _iotorino(python, cli_env, "stack", "up", "--settings", str(config))
    assert refused.returncode == 2 and "--secure" in refused.stdout
    up = _iotorino(python, cli_env, "stack", "up", "--secure", "--settings", str(config))
    try:
        assert up.returncode == 0, up.stderr
        assert {line.split(":")[0] for line in up.stdout.splitlines()} == {
            "mosquitto", "influxd", "collector-1", "collector-2", "monitor", "alerts-city", "alerts-school", "web",
            "prometheus", "airflow-scheduler", "airflow-dag-processor"}
        status = _iotorino(python, cli_env, "stack", "status", "--settings", str(config))
        assert status.returncode == 0, status.stdout
        assert all(row["alive"] and row["ready"] for row in json.loads(status.stdout))

        # Two replicas of one shared subscription: each message goes to exactly one of them.
        units = sorted(FLEET.street_units)[:4]
        secrets = SecretStore(settings.output / "secrets")
        before = [_received(port) for port in settings.metrics_ports]
        for unit in units:
            device = Session(settings.broker_port, settings.output / "tls" / "ca.pem", unit,
                             secrets.devices([unit])[unit])
            measurement = FLEET.profiles[FLEET.street_units[unit].profile].measurements[0]
            try:
                for i in range(MESSAGES // len(units)):
                    device.client.publish(f"iotorino/v1/street/{unit}/{measurement}", b"{}", qos=1)
                assert device.publish(f"iotorino/v1/street/{unit}/{measurement}", b"{}")
            finally:
                device.close()
        total = MESSAGES + len(units)
        deadline = time.monotonic() + 30
        while sum(_received(p) for p in settings.metrics_ports) - sum(before) < total:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        shares = [_received(port) - b for port, b in zip(settings.metrics_ports, before)]
        assert sum(shares) == total and min(shares) > 0, shares
    finally:
        down = _iotorino(python, cli_env, "stack", "down", "--settings", str(config))
    assert down.returncode == 0, down.stderr
    after = _iotorino(python, cli_env, "stack", "status", "--settings", str(config))
    assert after.returncode == 1 and json.loads(after.stdout) == []
    assert _processes_naming(settings.output) == [], "a process outlived stack down"
    values = [p.read_text().strip() for p in (settings.output / "secrets").iterdir() if p.name != "devices.csv"]
    assert not any(value in up.stdout + up.stderr + status.stdout for value in values)
