"""`iotorino collect ble` as a subprocess: clear errors without BlueZ and for bad config keys."""

from __future__ import annotations

import json
import subprocess

import paho.mqtt.publish as publish
import pytest

from iotorino.core import inventory
from iotorino.simulate import ble, ble_cli
from tests.ble_beacons import captures, test_capture
from tests.conftest import ROOT


def run_cli(python, cli_env, *args, timeout=60):
    return subprocess.run([python, "-m", "iotorino", "collect", "ble", *args], cwd=ROOT, env=cli_env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.integration
def test_live_scan_without_bluez_fails_naming_bluez_and_adapter(python, cli_env, tmp_path, mosquitto):
    config = tmp_path / "gw.toml"
    config.write_text(f'[gateway]\nid = "GW-1"\nadapter = "hci7"\n[mqtt]\nport = {mosquitto.port}\nspool = "s.sqlite"\n')
    done = run_cli(python, cli_env, "--config", str(config))
    assert done.returncode == 1, done.stderr
    assert "BlueZ" in done.stderr and "adapter 'hci7'" in done.stderr and "--replay FILE" in done.stderr


def test_bad_config_key_is_named(python, cli_env, tmp_path):
    config = tmp_path / "gw.toml"
    config.write_text('[gateway]\nid = "GW-1"\nwindow_s = 5\n')
    done = run_cli(python, cli_env, "--config", str(config))
    assert done.returncode == 2
    assert "config key 'gateway.window_s'" in done.stderr and "30-60" in done.stderr


@pytest.mark.integration
def test_simulated_capture_replays_and_records_only_beacons(python, cli_env, tmp_path, mosquitto, subscriber):
    captures = tmp_path / "captures"
    made = subprocess.run([python, "-m", "iotorino", "simulate", "ble-capture", "--out", str(captures),
                           "--minutes", "5"], cwd=ROOT, env=cli_env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    config = tmp_path / "gw.toml"
    config.write_text(f'[gateway]\nid = "GW-01"\n[mqtt]\nport = {mosquitto.port}\nspool = "s.sqlite"\n')
    recorded = tmp_path / "recorded.jsonl"
    done = run_cli(python, cli_env, "--config", str(config), "--replay", str(captures / "GW-01.jsonl"),
                   "--speed", "0", "--record", str(recorded))
    assert done.returncode == 0, done.stderr
    topics = {topic for topic, _, _ in subscriber.wait_for(1, measurement="beacon_sighting")}
    assert all(t.startswith("iotorino/v1/beacon/TO-BC-") and "/GW-01/beacon_sighting" in t for t in topics)
    assert subscriber.wait_for(1, measurement="ble_gateway")[0][0] == "iotorino/v1/gateway/GW-01/ble_gateway"
    text = recorded.read_text()
    assert text and '"local_name":null' in text and "Phone" not in text and "Watch" not in text


@pytest.fixture
def simulated_capture(tmp_path):
    """Three minutes of gateway GW-01 hearing the fleet (with phones), as `simulate ble-capture` writes it."""
    fleet = ble.generate(inventory.default().beacons, captures.T0, 3 * 60, seed=11)
    ble_cli.write(fleet, tmp_path / "captures")
    return tmp_path / "captures" / "GW-01.jsonl"


def gateway_toml(path, gateway_id, port):
    path.write_text(f'[gateway]\nid = "{gateway_id}"\n[mqtt]\nport = {port}\nspool = "{gateway_id}.sqlite"\n')
    return path


def sightings_of(messages, gateway_id):
    return sorted((topic.split("/")[3], payload) for topic, payload, _ in messages
                  if topic.endswith(f"/{gateway_id}/beacon_sighting"))


@pytest.mark.integration
def test_a_capture_with_malformed_lines_publishes_every_window_of_the_others_and_logs_no_address(
        python, cli_env, tmp_path, mosquitto, subscriber, simulated_capture):
    clean_lines = simulated_capture.read_bytes().splitlines()
    addresses = {json.loads(line)["address"] for line in clean_lines} | {captures.PHONE_MAC}
    corrupted = tmp_path / "corrupted.jsonl"
    lines = list(clean_lines)
    for n, (bad, _, _) in enumerate(test_capture.MALFORMED):
        lines.insert(1 + n * len(clean_lines) // len(test_capture.MALFORMED), bad.encode())
    corrupted.write_bytes(b"\n".join(lines) + b"\n" + test_capture.TRUNCATED.encode())

    clean = run_cli(python, cli_env, "--config", str(gateway_toml(tmp_path / "clean.toml", "GW-CLEAN", mosquitto.port)),
                    "--replay", str(simulated_capture), "--speed", "0")
    assert clean.returncode == 0, clean.stderr
    done = run_cli(python, cli_env, "--config", str(gateway_toml(tmp_path / "gw.toml", "GW-01", mosquitto.port)),
                   "--replay", str(corrupted), "--speed", "0")
    assert done.returncode == 0, done.stderr

    publish.single("test/marker", b"", qos=1, hostname="127.0.0.1", port=mosquitto.port)
    seen = subscriber.wait_for_topic("test/marker")
    expected = sightings_of(seen, "GW-CLEAN")
    assert len(expected) > 50 and sightings_of(seen, "GW-01") == expected
    bad_lines = {bad.encode() for bad, _, _ in test_capture.MALFORMED}
    for number in [n for n, line in enumerate(lines, start=1) if line in bad_lines]:
        assert f"skipping capture line {number} (field corrupted.jsonl:{number}" in done.stderr
    assert f"skipping capture line {len(lines) + 1} (field corrupted.jsonl:{len(lines) + 1}" in done.stderr
    assert f"skipped_lines={len(test_capture.MALFORMED) + 1}" in done.stderr
    for secret in addresses | {captures.PHONE_NAME, "Maria"}:
        assert secret not in done.stderr, f"{secret!r} leaked into the log"


@pytest.mark.integration
def test_a_capture_with_no_readable_line_exits_3_and_names_no_address(python, cli_env, tmp_path, mosquitto):
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_text("\n".join(bad for bad, _, _ in test_capture.MALFORMED) + "\n" + test_capture.TRUNCATED)
    done = run_cli(python, cli_env, "--config", str(gateway_toml(tmp_path / "gw.toml", "GW-01", mosquitto.port)),
                   "--replay", str(garbage), "--speed", "0")
    assert done.returncode == 3, done.stderr
    assert "no line of garbage.jsonl could be read" in done.stderr
    assert captures.PHONE_MAC not in done.stderr and captures.PHONE_NAME not in done.stderr
