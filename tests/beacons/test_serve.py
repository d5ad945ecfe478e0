"""`iotorino beacons serve` as a subprocess: /healthz, /readyz and /metrics beside the feed, readiness
that follows the broker and the restore, and exit 1 when the feed cannot serve."""

from __future__ import annotations

import pytest

import socket
import subprocess

import requests

from iotorino.services import free_port
from tests.beacons.conftest import wait_until
from tests.conftest import ROOT


def serve(python, cli_env, tmp_path, mosquitto_port, api_port):
    config = tmp_path / "beacons.toml"
    config.write_text(f'[monitor]\nrestore_quiet_s = 0.3\n[mqtt]\nport = {mosquitto_port}\nspool = "status.sqlite"\n'
                      f'[api]\nport = {api_port}\n')
    return subprocess.Popen([python, "-m", "iotorino", "beacons", "serve", "--config", str(config)],
                            cwd=ROOT, env=cli_env, stderr=subprocess.PIPE, text=True)


@pytest.mark.integration
def test_health_endpoints_follow_the_broker_and_the_restore(python, cli_env, tmp_path, mosquitto):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    mosquitto.stop()
    server = serve(python, cli_env, tmp_path, mosquitto.port, port)

    def get(path):
        try:
            return requests.get(base + path, timeout=5)
        except requests.ConnectionError:
            assert server.poll() is None, server.communicate()[1]
            return None

    try:
        alive = wait_until(lambda: get("/healthz"), 60, "the feed to listen")
        assert (alive.status_code, alive.json()) == (200, {"alive": True})
        ready = get("/readyz")
        components = ready.json()["components"]
        assert ready.status_code == 503 and "waiting for the broker" in components["beacon-restore"]["reason"]
        assert "broker link" in components["status-outbox-broker"]["reason"]
        assert get("/beacons").status_code == 503  # the feed itself says it is restoring
        mosquitto.start()
        wait_until(lambda: get("/readyz").status_code == 200, 60, "ready once the broker is up and restored")
        assert get("/beacons").status_code == 200
        metrics = get("/metrics").text
        for thread in ("beacon-mqtt", "beacon-health", "beacon-feed", "status-outbox-sender"):
            assert f'iotorino_thread_restarts_total{{thread="{thread}"}} 0.0' in metrics
        server.terminate()
        assert server.wait(60) == 0
    finally:
        if server.poll() is None:
            server.kill()
        server.communicate()


@pytest.mark.integration
def test_a_feed_that_cannot_listen_fails_the_process(python, cli_env, tmp_path, mosquitto):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        server = serve(python, cli_env, tmp_path, mosquitto.port, taken.getsockname()[1])
        assert server.wait(120) == 1
        stderr = server.communicate()[1]
    finally:
        taken.close()
    assert "event=process_failed" in stderr and "component=beacon-feed" in stderr
