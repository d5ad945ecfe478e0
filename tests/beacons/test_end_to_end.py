"""Whole fleet, end to end: simulated captures -> replay through bleak -> broker -> InfluxDB, health -> API.

Real mosquitto, real influxd, the MQTT collector, every gateway replaying its
capture through `BleakScanner(backend=ReplayScanner)`, and `iotorino beacons
serve` as a subprocess answering over real HTTP.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time

import pytest
import requests

from ingest.ble_beacons import collector, config as gateway_config, replay
from iotorino.core.outbox import Outbox
from iotorino.publisher import Publisher
from iotorino.core import inventory
from iotorino.beacons.health import STATUS_CODES
from iotorino.services import free_port
from iotorino.simulate import ble, ble_cli
from tests.beacons.conftest import wait_until
from tests.ble_beacons.conftest import Recorder
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

MINUTES = 15


@pytest.fixture
def fleet_captures(tmp_path):
    """The whole fleet's captures of the last MINUTES minutes, written like `simulate ble-capture`."""
    start = (time.time_ns() // (60 * 10**9) - MINUTES - 1) * 60 * 10**9
    fleet = ble.generate(inventory.default().beacons, start, MINUTES * 60, seed=7)
    ble_cli.write(fleet, tmp_path / "captures")
    return fleet, tmp_path / "captures"


@pytest.fixture
def feed(mosquitto, influx, fleet_captures, tmp_path, python, cli_env):
    """`iotorino beacons serve` on a free port with the event clock; yields its base URL."""
    _, folder = fleet_captures
    port = free_port()
    config = tmp_path / "beacons.toml"
    config.write_text(
        f'[monitor]\nclock = "event"\nevaluate_every_s = 0.2\n'
        f'[mqtt]\nport = {mosquitto.port}\nspool = "status.sqlite"\n[api]\nport = {port}\n'
        f'[influxdb]\nurl = "{influx.settings.url}"\ndatabase = "{influx.settings.database}"\n'
        + (folder / "health.toml").read_text())
    log = open(tmp_path / "serve.log", "w")
    server = subprocess.Popen([python, "-m", "iotorino", "beacons", "serve", "--config", str(config)],
                              cwd=ROOT, env=cli_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up():
        assert server.poll() is None, (tmp_path / "serve.log").read_text()
        try:
            return requests.get(f"{url}/beacons", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    wait_until(up, 60, "the feed to listen")
    yield url
    server.terminate()
    server.wait(30)
    log.close()


def replay_gateway(capture_path, mosquitto_port, spool_dir):
    settings = gateway_config.parse({"gateway": {"id": capture_path.stem},
                                     "mqtt": {"port": mosquitto_port, "spool": f"{capture_path.stem}.sqlite"}},
                                    spool_dir)
    publisher = Publisher("127.0.0.1", mosquitto_port, settings.mqtt.client_id, Outbox(settings.spool_path))
    the_replay = replay.Replay.from_file(capture_path, speed=0)
    gateway = collector.Gateway(settings, inventory.default(), publisher, the_replay.clock)
    publisher.start()
    try:
        asyncio.run(collector.run(gateway, collector.scanner_factory(settings, backend=replay.ReplayScanner,
                                                                     replay=the_replay), the_replay.done))
    finally:
        assert publisher.stop(timeout_s=60) == 0
    return gateway.stats


def test_whole_fleet_replay_gives_every_status_in_store_broker_and_api(
        mosquitto, influx, mqtt_collector, fleet_captures, feed, tmp_path):
    fleet, folder = fleet_captures
    matched = sum(replay_gateway(path, mosquitto.port, tmp_path / "spools").matched
                  for path in sorted(folder.glob("GW-*.jsonl")))
    assert matched > 0

    def final_statuses():
        beacons = requests.get(f"{feed}/beacons", timeout=5).json()
        got = {b["id"]: b["status"] for b in beacons}
        return got if got == dict(fleet.expected) else None

    statuses = wait_until(final_statuses, 120, "the expected statuses")
    troubled = {b: s for b, s in statuses.items() if s != "ok"}
    assert sorted(set(troubled.values())) == sorted(ble.MISBEHAVIOURS) and len(statuses) == 500

    # Lookups by the identities phones report.
    registry = inventory.default()
    moved = registry.beacons[next(b for b, s in troubled.items() if s == "moved")]
    by_uid = requests.get(f"{feed}/lookup/eddystone", timeout=5,
                          params={"namespace": moved.eddystone_namespace, "instance": moved.eddystone_instance}).json()
    assert (by_uid["id"], by_uid["status"], by_uid["usable"], by_uid["content_id"]) == (
        moved.id, "moved", False, moved.content_id)
    ok = next(b for b in registry.beacons.values() if b.ibeacon_uuid and statuses[b.id] == "ok")
    by_ibeacon = requests.get(f"{feed}/lookup/ibeacon", timeout=5, params={
        "uuid": ok.ibeacon_uuid.upper(), "major": ok.ibeacon_major, "minor": ok.ibeacon_minor}).json()
    assert by_ibeacon["id"] == ok.id and by_ibeacon["usable"] and by_ibeacon["last_seen"].endswith("Z")
    assert requests.get(f"{feed}/lookup/ibeacon", timeout=5, params={
        "uuid": ok.ibeacon_uuid, "major": ok.ibeacon_major, "minor": 65535 - ok.ibeacon_minor}).status_code in (200, 404)
    assert requests.get(f"{feed}/lookup/ibeacon", timeout=5, params={"uuid": "nope", "major": 1, "minor": 1}).status_code == 422
    assert requests.get(f"{feed}/beacons/TO-BC-9999", timeout=5).status_code == 404
    assert "/lookup/eddystone" in requests.get(f"{feed}/openapi.json", timeout=5).json()["paths"]

    # Every gateway's heartbeat reached the monitor and, through the MQTT collector, InfluxDB.
    listed = requests.get(f"{feed}/gateways", timeout=5).json()
    assert {g["id"]: g["status"] for g in listed} == {g: "ok" for g in fleet.gateways}
    assert all(g["lon"] is not None and g["adverts_per_s"] > 0 and g["scanner_restarts"] == 0 for g in listed)

    def stored_heartbeats():
        series = influx.query('SELECT last("uptime_s") FROM "ble_gateway" GROUP BY "gateway"')
        return {s["tags"]["gateway"] for s in series} == set(fleet.gateways)

    wait_until(stored_heartbeats, 60, "a stored heartbeat of every gateway")

    # Retained statuses on the broker: one per beacon, the latest one right.
    recorder = Recorder(mosquitto.port, "iotorino/beacons/+/status")
    try:
        # Retained copies arrive first; changes still leaving the monitor's spool follow live.
        def latest():
            statuses = {json.loads(p)["beacon"]: json.loads(p)["status"] for _, p, _ in list(recorder.messages)}
            return statuses if statuses == dict(fleet.expected) else None

        wait_until(latest, 60, "the broker's statuses")
        assert any(retain for _, _, retain in recorder.messages)
    finally:
        recorder.close()

    # InfluxDB: sightings and statuses stored by the MQTT collector, tags are ids only.
    def stored_statuses():
        series = influx.query('SELECT last("status_code") FROM "beacon_status" GROUP BY "beacon"')
        return {s["tags"]["beacon"]: s["values"][0][1] for s in series} if len(series) == 500 else None

    codes = wait_until(stored_statuses, 60, "500 beacon_status series")
    assert {b: c for b, c in codes.items() if c} == {b: STATUS_CODES[s] for b, s in troubled.items()}
    gateways = influx.query('SHOW TAG VALUES FROM "beacon_sighting" WITH KEY = "gateway"')[0]["values"]
    assert {v[1] for v in gateways} <= set(fleet.gateways)
    everything = json.dumps(influx.query('SELECT * FROM "beacon_sighting" LIMIT 100000'))
    assert ":" not in "".join(v[1] for v in gateways) and "Phone" not in everything and "adv-" not in everything
