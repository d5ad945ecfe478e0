"""`iotorino web` serves the app from the environment's settings on loopback."""

from __future__ import annotations

import subprocess
import time

import requests

from iotorino.services import free_port
from tests.export.published import DATASET


def test_iotorino_web_serves_the_portal(published, python, cli_env):
    port = free_port()
    env = dict(cli_env, IOTORINO_EXPORT_DIR=str(published), IOTORINO_PUBLIC_URL="https://dati.example.it")
    process = subprocess.Popen([python, "-m", "iotorino", "web", "--port", str(port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/dati/{DATASET}.json", timeout=60)
                break
            except requests.ConnectionError:
                assert process.poll() is None and time.monotonic() < deadline, process.stderr.read().decode()
                time.sleep(0.2)
        assert response.status_code == 200 and response.json()["temporal"]["days"] == 4
        assert "https://dati.example.it/dati/" in requests.get(f"http://127.0.0.1:{port}/dati/catalogo.ttl", timeout=60).text
        assert "server" not in response.headers
    finally:
        process.terminate()
        process.wait(15)


def test_https_needs_both_the_certificate_and_its_key(python, cli_env, tmp_path):
    (tmp_path / "web.pem").write_text("not used")
    done = subprocess.run([python, "-m", "iotorino", "web", "--port", str(free_port()), "--ssl-certfile",
                           str(tmp_path / "web.pem")], env=cli_env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "--ssl-keyfile" in done.stderr + done.stdout
