"""Typed configuration of `iotorino beacons serve` (health monitor + HTTP feed), checked at start.

Read by the project's one loader (`iotorino.core.config`); `[mqtt]` is the
shared MQTT client section. See iotorino/beacons/sample.toml for every key,
commented.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from iotorino.beacons.health import Thresholds
from iotorino.core.config import (MqttClient, identifier, influx, known_keys, mqtt_client, one_of, port, positive,
                                  read_toml, section, setting, table)
from iotorino.core.errors import ConfigError
from iotorino.core.sites import ID_PATTERN
from iotorino.core.store.influx_v1 import InfluxV1Settings


@dataclass(frozen=True)
class MonitorConfig:
    """The health monitor."""

    id: str = setting("HEALTH", check=identifier)
    """Its id: the `gateway` tag of the beacon_status readings it writes."""
    clock: str = setting("wall", check=one_of("wall", "event"))
    """wall: judge against the wall clock (live). event: against the gateways' readings,
    the oldest latest window among the configured gateways (replays, backfills)."""
    evaluate_every_s: float = setting(5.0, check=positive())
    """Seconds between evaluations of the whole fleet."""
    restore_quiet_s: float = setting(1.0, check=positive())
    """At start: the retained statuses are all in once none has arrived for this many seconds ..."""
    restore_timeout_s: float = setting(30.0, check=positive())
    """... or this many seconds after subscribing; also how long InfluxDB may take to answer at start."""
    battery_history: str = "var/beacons/battery-history.sqlite"
    """SQLite file of the hourly battery voltages read from InfluxDB (relative to the config file): a restart
    reads 60 days of them from here instead of from every stored sighting (iotorino/beacons/battery.py)."""


@dataclass(frozen=True)
class ApiConfig:
    """Where the read-only HTTP feed listens."""

    host: str = "127.0.0.1"
    """Address to listen on (loopback unless a proxy in front needs otherwise)."""
    port: int = setting(8765, check=port)
    """TCP port of the feed."""


@dataclass(frozen=True)
class MqttConfig(MqttClient):
    """The shared `[mqtt]` client section, with the spool of status messages (not the gateway's spool)."""

    spool: str = "var/beacons/status-spool.sqlite"
    """SQLite file of status messages not yet acknowledged by the broker (relative to the config file)."""


@dataclass(frozen=True)
class BeaconsConfig:
    """The whole configuration."""

    monitor: MonitorConfig
    thresholds: Thresholds
    mqtt: MqttConfig
    api: ApiConfig
    gateways: Mapping[str, tuple[float, float]]
    base_dir: Path
    influx: InfluxV1Settings | None = None
    """Where the MQTT collector stores the sightings: read back at start (None: restore without it)."""

    @property
    def spool_path(self) -> Path:
        """The status spool, resolved against the config file's folder."""
        return self.base_dir / self.mqtt.spool

    @property
    def battery_history_path(self) -> Path:
        """The hourly battery history file, resolved against the config file's folder."""
        return self.base_dir / self.monitor.battery_history


def load(path: Path) -> BeaconsConfig:
    """Read and check the TOML file at `path`."""
    return parse(read_toml(path), path.resolve().parent)


def parse(raw: dict[str, Any], base_dir: Path) -> BeaconsConfig:
    """Check a parsed TOML document; unknown keys are errors."""
    known_keys("", raw, {"monitor", "thresholds", "mqtt", "api", "gateways", "influxdb"})
    monitor = section(MonitorConfig, table(raw, "monitor"), "monitor")
    thresholds = section(Thresholds, table(raw, "thresholds"), "thresholds")
    for f in fields(Thresholds):
        positive()(f"thresholds.{f.name}", getattr(thresholds, f.name))
    api = section(ApiConfig, table(raw, "api"), "api")
    mqtt = mqtt_client(raw, MqttConfig)
    if not mqtt.client_id:
        mqtt = replace(mqtt, client_id=f"iotorino-{monitor.id}")
    gateways = {}
    for gateway_id, place in table(raw, "gateways").items():
        key = f"gateways.{gateway_id}"
        if not ID_PATTERN.fullmatch(gateway_id):
            raise ConfigError(key, f"{gateway_id!r} is not a gateway id", "letters, digits and -")
        if not isinstance(place, dict) or set(place) != {"lon", "lat"}:
            raise ConfigError(key, f"{place!r} is not a place", "a table with lon and lat in degrees (WGS84)")
        lon, lat = place["lon"], place["lat"]
        if not all(isinstance(v, (int, float)) for v in (lon, lat)) or not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ConfigError(key, f"lon {lon!r}, lat {lat!r} out of range", "lon -180..180, lat -90..90")
        gateways[gateway_id] = (float(lon), float(lat))
    return BeaconsConfig(monitor, thresholds, mqtt, api, gateways, base_dir, _influx(raw))


def _influx(raw: dict[str, Any]) -> InfluxV1Settings | None:
    found = table(raw, "influxdb")
    if not found:
        return None
    settings = influx(found)
    if not isinstance(settings, InfluxV1Settings):
        raise ConfigError("influxdb.api", "the monitor reads with InfluxQL (/query)", "v1")
    return settings
