"""Typed configuration of the BLE gateway, read from TOML and checked at start.

Every problem raises `ConfigError` naming the key, the value and what is
accepted. The commented `sample.toml` beside this file documents each key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iotorino.core.errors import ConfigError
from ingest.ble_beacons.const import (DEFAULT_PAIR_WINDOW_S, DEFAULT_WATCHDOG_S, DEFAULT_WINDOW_S,
                                      WINDOW_S_RANGE)

# Ids are MQTT topic levels and InfluxDB tag values (as iotorino.core.inventory.ID_PATTERN).
ID = re.compile(r"^[A-Za-z0-9-]{1,63}$")


@dataclass(frozen=True)
class GatewayConfig:
    """How this gateway scans and aggregates."""

    id: str
    """Gateway id: the `gateway` tag and a level of the MQTT topic (letters, digits and -)."""
    adapter: str = "hci0"
    """BlueZ adapter to scan with."""
    scanning_mode: str = "auto"
    """passive (BlueZ or-patterns, needs bluetoothd --experimental), active, or auto (passive where
    BlueZ supports it, active otherwise)."""
    window_s: int = DEFAULT_WINDOW_S
    """Seconds per reading window, 30-60."""
    pair_window_s: float = DEFAULT_PAIR_WINDOW_S
    """Seconds within which a TLM/URL frame is paired with its UID frame by advertiser address."""
    watchdog_s: float = DEFAULT_WATCHDOG_S
    """Restart scanning after this many seconds without any advertisement."""
    stats_interval_s: float = 60.0
    """Seconds between heartbeats (`ble_gateway` readings, also logged): adverts/s, matched/s, restarts,
    spool depth, uptime."""


@dataclass(frozen=True)
class MqttConfig:
    """The broker the readings are published to, and the spool that keeps them until it acknowledges."""

    host: str = "127.0.0.1"
    port: int = 1883
    client_id: str = ""
    """Empty: `iotorino-ble-<gateway id>`."""
    keepalive_s: int = 30
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


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed TOML file at `path`; `ConfigError` naming --config if it is missing or invalid."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("--config", f"file {str(path)!r} does not exist", "a readable TOML file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("--config", f"{path} is not valid TOML: {error}") from None
    return raw


def parse(raw: dict[str, Any], base_dir: Path) -> BleConfig:
    """Check a parsed TOML document; unknown keys are errors too (they are usually typos)."""
    known_keys("", raw, {"gateway", "mqtt"})
    gateway_raw = table(raw, "gateway")
    mqtt_raw = table(raw, "mqtt", required=False)
    known_keys("gateway.", gateway_raw, set(GatewayConfig.__dataclass_fields__))
    known_keys("mqtt.", mqtt_raw, set(MqttConfig.__dataclass_fields__))
    gateway = GatewayConfig(**gateway_raw)
    if not isinstance(gateway.id, str) or not ID.match(gateway.id):
        raise ConfigError("gateway.id", f"{gateway.id!r} is not a usable id", "1-63 letters, digits and -")
    if gateway.scanning_mode not in ("auto", "passive", "active"):
        raise ConfigError("gateway.scanning_mode", f"{gateway.scanning_mode!r} is unknown",
                          "auto, passive, active")
    low, high = WINDOW_S_RANGE
    if not isinstance(gateway.window_s, int) or not low <= gateway.window_s <= high:
        raise ConfigError("gateway.window_s", f"{gateway.window_s!r} is out of range", f"an integer {low}-{high}")
    for key in ("pair_window_s", "watchdog_s", "stats_interval_s"):
        positive(f"gateway.{key}", getattr(gateway, key))
    mqtt = MqttConfig(**mqtt_raw)
    if not isinstance(mqtt.port, int) or not 0 < mqtt.port < 65536:
        raise ConfigError("mqtt.port", f"{mqtt.port!r} is not a TCP port", "1-65535")
    positive("mqtt.keepalive_s", mqtt.keepalive_s)
    if not mqtt.client_id:
        mqtt = MqttConfig(**{**mqtt_raw, "client_id": f"iotorino-ble-{gateway.id}"})
    return BleConfig(gateway, mqtt, base_dir)


def table(raw: dict[str, Any], key: str, required: bool = True) -> dict[str, Any]:
    """The TOML table `key` of `raw` ({} if optional and absent); `ConfigError` if it is not a table."""
    value = raw.get(key, None if required else {})
    if not isinstance(value, dict):
        raise ConfigError(key, "missing or not a table", f"a [{key}] table")
    return value


def known_keys(prefix: str, table: dict[str, Any], known: set[str]) -> None:
    """`ConfigError` naming the first key of `table` not in `known` (usually a typo)."""
    for key in table:
        if key not in known:
            raise ConfigError(prefix + key, "unknown key", ", ".join(sorted(prefix + k for k in known)))


def positive(key: str, value: Any) -> None:
    """`ConfigError` unless `value` is a number above 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(key, f"{value!r} is not a positive number", "a number > 0")
