"""Typed configuration of `iotorino beacons serve` (health monitor + HTTP feed), checked at start.

See iotorino/beacons/sample.toml for every key, commented.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

from iotorino.beacons.health import Thresholds
from iotorino.core.errors import ConfigError
from iotorino.core.store.influx_v1 import InfluxV1Settings
from ingest.ble_beacons.config import ID, MqttConfig, known_keys, positive, read_toml, table
from ingest.mqtt.config import influx_settings


# Default spool of the status messages (not the gateway's spool).
STATUS_SPOOL = "var/beacons/status-spool.sqlite"


@dataclass(frozen=True)
class MonitorConfig:
    """The health monitor."""

    id: str = "HEALTH"
    """Its id: the `gateway` tag of the beacon_status readings it writes."""
    clock: str = "wall"
    """wall: judge against the wall clock (live). event: against the gateways' readings,
    the oldest latest window among the configured gateways (replays, backfills)."""
    evaluate_every_s: float = 5.0
    """Seconds between evaluations of the whole fleet."""
    restore_quiet_s: float = 1.0
    """At start: the retained statuses are all in once none has arrived for this many seconds ..."""
    restore_timeout_s: float = 30.0
    """... or this many seconds after subscribing; also how long InfluxDB may take to answer at start."""


@dataclass(frozen=True)
class ApiConfig:
    """Where the read-only HTTP feed listens."""

    host: str = "127.0.0.1"
    port: int = 8765


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


def load(path: Path) -> BeaconsConfig:
    """Read and check the TOML file at `path`."""
    return parse(read_toml(path), path.resolve().parent)


def parse(raw: dict[str, Any], base_dir: Path) -> BeaconsConfig:
    """Check a parsed TOML document; unknown keys are errors."""
    sections = {"monitor": MonitorConfig, "thresholds": Thresholds, "mqtt": MqttConfig, "api": ApiConfig}
    known_keys("", raw, set(sections) | {"gateways", "influxdb"})
    built = {}
    for name, kind in sections.items():
        section = table(raw, name, required=False)
        known_keys(f"{name}.", section, {f.name for f in fields(kind)})
        built[name] = kind(**section)
    monitor, thresholds, api = built["monitor"], built["thresholds"], built["api"]
    if not ID.match(str(monitor.id)):
        raise ConfigError("monitor.id", f"{monitor.id!r} is not a usable id", "1-63 letters, digits and -")
    if monitor.clock not in ("wall", "event"):
        raise ConfigError("monitor.clock", f"{monitor.clock!r} is unknown", "wall, event")
    for key in ("evaluate_every_s", "restore_quiet_s", "restore_timeout_s"):
        positive(f"monitor.{key}", getattr(monitor, key))
    for f in fields(Thresholds):
        positive(f"thresholds.{f.name}", getattr(thresholds, f.name))
    if not isinstance(api.port, int) or not 0 < api.port < 65536:
        raise ConfigError("api.port", f"{api.port!r} is not a TCP port", "1-65535")
    mqtt_raw = table(raw, "mqtt", required=False)
    mqtt = MqttConfig(**{"client_id": f"iotorino-{monitor.id}", "spool": STATUS_SPOOL,
                         **{k: v for k, v in mqtt_raw.items() if v != ""}})
    gateways = {}
    for gateway_id, place in table(raw, "gateways", required=False).items():
        key = f"gateways.{gateway_id}"
        if not ID.match(gateway_id):
            raise ConfigError(key, f"{gateway_id!r} is not a gateway id", "letters, digits and -")
        if not isinstance(place, dict) or set(place) != {"lon", "lat"}:
            raise ConfigError(key, f"{place!r} is not a place", "a table with lon and lat in degrees (WGS84)")
        lon, lat = place["lon"], place["lat"]
        if not all(isinstance(v, (int, float)) for v in (lon, lat)) or not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise ConfigError(key, f"lon {lon!r}, lat {lat!r} out of range", "lon -180..180, lat -90..90")
        gateways[gateway_id] = (float(lon), float(lat))
    return BeaconsConfig(monitor, thresholds, mqtt, api, gateways, base_dir, _influx(raw))


def _influx(raw: dict[str, Any]) -> InfluxV1Settings | None:
    section = table(raw, "influxdb", required=False)
    if not section:
        return None
    settings = influx_settings(section)
    if not isinstance(settings, InfluxV1Settings):
        raise ConfigError("influxdb.api", "the monitor reads with InfluxQL (/query)", "v1")
    return settings
