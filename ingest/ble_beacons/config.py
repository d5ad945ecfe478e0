"""Typed configuration of the BLE gateway, read from TOML and checked at start.

The tables are dataclasses read by the project's one loader
(`iotorino.core.config`): every problem raises `ConfigError` naming the key,
the value and what is accepted. The commented `sample.toml` beside this file
documents each key; `[mqtt]` is the project's shared MQTT client section.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ingest.ble_beacons.const import (DEFAULT_PAIR_WINDOW_S, DEFAULT_WATCHDOG_S, DEFAULT_WINDOW_S,
                                      WINDOW_S_RANGE)
from iotorino.core.config import (MqttClient, identifier, in_range, known_keys, mqtt_client, one_of, positive,
                                  read_toml, section, setting, table)


@dataclass(frozen=True)
class GatewayConfig:
    """How this gateway scans and aggregates."""

    id: str = setting(check=identifier)
    """Gateway id: the `gateway` tag and a level of the MQTT topic (letters, digits and -)."""
    adapter: str = "hci0"
    """BlueZ adapter to scan with."""
    scanning_mode: str = setting("auto", check=one_of("auto", "passive", "active"))
    """passive (BlueZ or-patterns, needs bluetoothd --experimental), active, or auto (passive where
    BlueZ supports it, active otherwise)."""
    window_s: int = setting(DEFAULT_WINDOW_S, check=in_range(*WINDOW_S_RANGE))
    """Seconds per reading window, 30-60 (the beacon monitor's thresholds.window_s must be the same)."""
    pair_window_s: float = setting(DEFAULT_PAIR_WINDOW_S, check=positive())
    """Seconds within which a TLM/URL frame is paired with its UID frame by advertiser address."""
    watchdog_s: float = setting(DEFAULT_WATCHDOG_S, check=positive())
    """Restart scanning after this many seconds without any advertisement."""
    stats_interval_s: float = setting(60.0, check=positive())
    """Seconds between heartbeats (`ble_gateway` readings, also logged): adverts/s, matched/s, restarts,
    spool depth, uptime."""


@dataclass(frozen=True)
class MqttConfig(MqttClient):
    """The shared `[mqtt]` client section, with the spool that keeps messages until the broker acknowledges."""

    spool: str = "var/ble/spool.sqlite"
    """SQLite file holding messages not yet acknowledged by the broker (relative to the config file)."""


@dataclass(frozen=True)
class BleConfig:
    """The whole gateway configuration."""

    gateway: GatewayConfig
    mqtt: MqttConfig
    base_dir: Path

    @property
    def spool_path(self) -> Path:
        """The spool file, resolved against the config file's folder."""
        return self.base_dir / self.mqtt.spool


def load(path: Path) -> BleConfig:
    """Read and check the TOML file at `path`."""
    return parse(read_toml(path), path.resolve().parent)


def parse(raw: dict[str, Any], base_dir: Path) -> BleConfig:
    """Check a parsed TOML document; unknown keys are errors too (they are usually typos)."""
    known_keys("", raw, {"gateway", "mqtt"})
    gateway = section(GatewayConfig, table(raw, "gateway", required=True), "gateway")
    mqtt = mqtt_client(raw, MqttConfig)
    if not mqtt.client_id:
        mqtt = replace(mqtt, client_id=f"iotorino-ble-{gateway.id}")
    return BleConfig(gateway, mqtt, base_dir)
