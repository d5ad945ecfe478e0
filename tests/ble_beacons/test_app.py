"""`iotorino collect ble` as a subprocess: clear errors without BlueZ and for bad config keys."""

from __future__ import annotations

import pytest

import subprocess

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
