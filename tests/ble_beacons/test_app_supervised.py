"""The gateway's threads under the supervisor: a crashing replay is restarted and counted, a replay that
keeps crashing fails the process after publishing its windows; /healthz, /readyz and /metrics of
`iotorino collect ble --listen` follow the broker link and the components."""

from __future__ import annotations

import pytest

import json
import logging
import signal
import subprocess
import urllib.error
import urllib.request

from iotorino.core import health
from iotorino.core.outbox import Outbox
from iotorino.publisher import Publisher
from iotorino.core.supervisor import Supervisor
from iotorino.services import free_port
from ingest.ble_beacons import app, capture, replay
from ingest.ble_beacons.metrics import GatewayMetrics
from tests.beacons.conftest import wait_until
from tests.ble_beacons import captures
from tests.ble_beacons.fleet import REGISTRY
from tests.conftest import ROOT

SIGHTING = "beacon_sighting"


class CrashingReplay(replay.ReplayScanner):
    """A replay backend whose delivery raises after the `crash_after`-th advert, `crashes` times in all
    (a bug in a backend or a callback, carrying a phone's address in its message)."""

    crash_after, crashes, delivered = 5, 1, 0

    def _deliver(self, advert) -> None:
        super()._deliver(advert)
        CrashingReplay.delivered += 1
        if CrashingReplay.crashes and CrashingReplay.delivered >= CrashingReplay.crash_after:
            CrashingReplay.crashes -= 1
            raise RuntimeError(f"backend bug near {captures.PHONE_MAC}")


def write_capture(path):
    path.write_text("".join(capture.to_line(a) + "\n" for a in captures.TWO_WINDOWS))
    return path


def supervised_scan(gateway_config, tmp_path, supervisor, metrics):
    mqtt = gateway_config.mqtt
    publisher = Publisher(mqtt.host, mqtt.port, mqtt.client_id, Outbox(gateway_config.spool_path))
    publisher.start(supervisor)
    scan = app.Scan(gateway_config, REGISTRY, publisher, None, metrics, write_capture(tmp_path / "c.jsonl"), 0,
                    None, backend=CrashingReplay)
    return scan, publisher


@pytest.mark.integration
def test_a_crashing_replay_is_restarted_counted_and_loses_no_window(gateway_config, tmp_path, subscriber, caplog):
    CrashingReplay.crash_after, CrashingReplay.crashes, CrashingReplay.delivered = 5, 1, 0
    metrics = GatewayMetrics()
    supervisor = Supervisor("test-gateway", registry=metrics.registry, sleep=lambda s: None)
    scan, publisher = supervised_scan(gateway_config, tmp_path, supervisor, metrics)
    with caplog.at_level(logging.INFO):
        scan.run_under(supervisor)
        assert publisher.stop() == 0
    assert metrics.registry.get_sample_value("iotorino_thread_restarts_total", {"thread": "ble-replay"}) == 1
    assert scan.finished.is_set() and supervisor.alive() and scan.gateway.stats.matched == 8
    assert len(subscriber.wait_for(3, measurement=SIGHTING)) == 3
    assert caplog.text.count("event=thread_crashed") == 1 and "RuntimeError" in caplog.text
    assert captures.PHONE_MAC not in caplog.text


@pytest.mark.integration
def test_a_replay_that_keeps_crashing_fails_the_process_after_publishing_its_windows(
        gateway_config, tmp_path, subscriber):
    CrashingReplay.crash_after, CrashingReplay.crashes, CrashingReplay.delivered = 4, 1000, 0
    metrics = GatewayMetrics()
    supervisor = Supervisor("test-gateway", registry=metrics.registry, sleep=lambda s: None, give_up_after=3)
    server = health.serve(metrics.registry, supervisor, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    scan, publisher = supervised_scan(gateway_config, tmp_path, supervisor, metrics)
    try:
        scan.run_under(supervisor)
        assert publisher.stop() == 0
        assert not supervisor.alive() and not scan.finished.is_set()
        assert metrics.registry.get_sample_value("iotorino_thread_restarts_total", {"thread": "ble-replay"}) == 3
        assert status_of(base + "/healthz") == (503, {"alive": False})
        code, body = status_of(base + "/readyz")
        assert code == 503 and body["components"]["ble-replay"]["reason"] == "RuntimeError in ble-replay"
        # The windows of what was heard before it gave up (adverts 1-6: both beacons) are published.
        beacons = {t.split("/")[3] for t, _, _ in subscriber.wait_for(2, measurement=SIGHTING)}
        assert beacons == {"bcn-0001", "bcn-0002"}
    finally:
        supervisor.stop()
        server.shutdown()


def status_of(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.integration
def test_collect_ble_serves_health_that_follows_the_broker_link(python, cli_env, tmp_path, mosquitto):
    port = free_port()
    config = tmp_path / "gw.toml"
    config.write_text(f'[gateway]\nid = "GW-1"\n[mqtt]\nport = {mosquitto.port}\nspool = "s.sqlite"\n')
    mosquitto.stop()
    gateway = subprocess.Popen(
        [python, "-m", "iotorino", "collect", "ble", "--config", str(config), "--replay",
         str(write_capture(tmp_path / "c.jsonl")), "--speed", "0.5", "--listen", f"127.0.0.1:{port}"],
        cwd=ROOT, env=cli_env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def answers(path):
            try:
                return status_of(base + path)
            except (urllib.error.URLError, ConnectionError):
                return None

        assert wait_until(lambda: answers("/healthz"), 30, "the health endpoint") == (200, {"alive": True})
        code, body = answers("/readyz")
        assert code == 503 and "broker link" in body["components"]["outbox-broker"]["reason"]
        mosquitto.start()
        wait_until(lambda: answers("/readyz")[0] == 200, 60, "ready once the broker is up")
        metrics = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
        assert 'iotorino_thread_restarts_total{thread="ble-replay"} 0.0' in metrics
        assert "iotorino_ble_adverts_total" in metrics and "iotorino_ble_outbox_messages" in metrics
        gateway.send_signal(signal.SIGTERM)
        assert gateway.wait(60) == 0
    finally:
        if gateway.poll() is None:
            gateway.kill()
        stderr = gateway.communicate()[1]
    assert "gateway GW-1 stopped" in stderr and captures.PHONE_MAC not in stderr
