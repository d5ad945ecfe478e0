"""The collector's configuration: a TOML file (see sample.toml), checked at start.

The tables are typed dataclasses read by the project's one loader
(`iotorino.core.config`): every problem names the key, the value and what
would be accepted. Secrets are never in the file: passwords come from the
environment variable (or file) the file names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.mqtt.formats import FORMATS
from ingest.mqtt.pipeline import Limits, Route
from iotorino.core import paths
from iotorino.core.config import (MqttClient, influx, known_keys, listen_address, mqtt_client, non_negative,
                                  positive, read_toml, section, setting, table)
from iotorino.core.errors import ConfigError
from iotorino.core.store.influx_v1 import InfluxV1Settings
from iotorino.core.store.influx_v2 import InfluxV2Settings

__all__ = ["BatchSettings", "CollectorConfig", "LimitsTable", "MetricsSettings", "MqttSettings", "SpoolSettings",
           "Subscription", "from_dict", "influx", "load"]
TABLES = ("mqtt", "subscriptions", "influxdb", "batch", "limits", "deadletters", "spool", "metrics")


def _share_group(key: str, value: Any) -> None:
    if "/" in value or "+" in value or "#" in value:
        raise ConfigError(key, f"invalid group name {value!r}", "a name without / + #")


@dataclass(frozen=True)
class MqttSettings(MqttClient):
    """The shared `[mqtt]` client section, with the collector's session keys."""

    client_id: str = "iotorino-collector"
    """Fixed, so the broker keeps this collector's session (and its queued messages) across restarts.
    Replicas sharing the load need distinct ids."""
    session_expiry_s: int = setting(7 * 86_400, check=positive())
    """Seconds the broker keeps the session (and queued messages) while the collector is away."""
    receive_maximum: int = setting(20_000, check=positive(65_535))
    """Most unacknowledged messages the broker may send at once (MQTT v5 Receive Maximum), at least twice
    batch.max_readings."""
    share_group: str = setting("", check=_share_group)
    """Empty: subscribe directly. Otherwise subscribe as $share/<share_group>/<topic>."""
    silence_timeout_s: int = setting(300, check=non_negative("off"))
    """Seconds connected without any message before the watchdog forces a reconnect; 0 = off."""


@dataclass(frozen=True)
class Subscription:
    """One `[[subscriptions]]` table: a topic filter and the payload format of its topics."""

    topic: str
    """MQTT topic filter (+ and # wildcards; # only at the end)."""
    format: str = "native"
    """Payload format of the matching topics (see `iotorino decode --help`)."""


@dataclass(frozen=True)
class BatchSettings:
    """How readings are grouped into writes (group commit: see `Collector._take_batch`)."""

    max_readings: int = setting(5000, check=positive(100_000))
    """Most readings per write to InfluxDB."""
    max_delay_s: float = setting(0.2, check=positive())
    """The longest a batch keeps gathering, while another write is in flight or while it lingers (seconds)."""
    linger_us_per_msg_s: float = setting(2.0, check=non_negative("off"))
    """Adaptive linger: even with the store idle, a batch gathers this many microseconds for every message
    per second arriving (the rate measured over the last ~50 ms), so writes grow with the square of the rate:
    at 200 msg/s it lingers 0.4 ms (one reading per write), at 5,000 msg/s 10 ms (~50 per write, 100 writes
    a second instead of several hundred). 0 = off: an idle store gets every message at once."""
    max_linger_s: float = setting(0.02, check=non_negative("no linger"))
    """The longest a batch lingers with the store idle (seconds): bursts measure as very high rates, and beyond
    ~10,000 msg/s a longer linger saves little (at most 50 writes a second at this bound)."""


@dataclass(frozen=True)
class LimitsTable:
    """The `[limits]` table: bounds a message must respect."""

    max_payload_bytes: int = setting(65_536, check=positive())
    """Largest payload accepted, bytes."""
    max_future_s: float = setting(600.0, check=positive())
    """Seconds a reading's time may lie ahead of the collector's clock."""
    max_past_days: float = setting(30.0, check=positive())
    """Days a reading's time may lie behind the collector's clock."""


@dataclass(frozen=True)
class DeadLettersTable:
    """The `[deadletters]` table."""

    path: str = str(paths.VAR / "collector" / "deadletters.sqlite")
    """SQLite file of rejected messages (`iotorino deadletters` lists and replays them)."""


@dataclass(frozen=True)
class SpoolSettings:
    """The on-disk spool that takes batches while InfluxDB is down or slow."""

    path: Path
    """SQLite file; default: spool.sqlite next to the dead letters."""
    max_messages: int = setting(1_000_000, check=positive())
    """Bound in messages; when reached the collector stops acknowledging (the broker keeps the rest)."""
    max_bytes: int = setting(1 << 30, check=positive())
    """Bound in bytes (payload + line protocol)."""
    probe_interval_s: float = setting(5.0, check=positive())
    """While nothing durable can take a batch (spool or dead letters full, their disk full, InfluxDB down),
    how often the files and InfluxDB are tried again, seconds."""


@dataclass(frozen=True)
class MetricsSettings:
    """The Prometheus endpoint."""

    listen: str = setting("", check=listen_address)
    """"host:port" to serve /metrics (and /healthz, /readyz) on; empty = no endpoint."""


@dataclass(frozen=True)
class CollectorConfig:
    """Everything `iotorino collect mqtt` needs."""

    mqtt: MqttSettings
    routes: list[Route]
    influx: InfluxV1Settings | InfluxV2Settings
    batch: BatchSettings
    limits: Limits
    deadletters_path: Path
    spool: SpoolSettings
    metrics: MetricsSettings = MetricsSettings()


def load(path: Path) -> CollectorConfig:
    """Read and check a config file; raises `ConfigError` naming the key."""
    return from_dict(read_toml(path))


def from_dict(raw: dict[str, Any]) -> CollectorConfig:
    """Build a config from parsed TOML."""
    known_keys("", raw, TABLES)
    mqtt = mqtt_client(raw, MqttSettings)
    if not mqtt.client_id:
        raise ConfigError("mqtt.client_id", "must not be empty: a persistent session needs a fixed client id",
                          "a fixed id, e.g. iotorino-collector")
    routes = _routes(raw.get("subscriptions"))
    batch = section(BatchSettings, table(raw, "batch"), "batch")
    if mqtt.receive_maximum < 2 * batch.max_readings:
        # Two writers fill batches side by side; with fewer messages in flight every
        # batch would wait max_delay_s for messages the broker may not send yet.
        raise ConfigError("mqtt.receive_maximum", f"{mqtt.receive_maximum} is less than twice "
                          f"batch.max_readings ({batch.max_readings})",
                          f"at least {2 * batch.max_readings}, or a smaller batch.max_readings")
    lim = section(LimitsTable, table(raw, "limits"), "limits")
    limits = Limits(lim.max_payload_bytes, lim.max_future_s, lim.max_past_days * 86_400)
    deadletters = Path(section(DeadLettersTable, table(raw, "deadletters"), "deadletters").path)
    spool = section(SpoolSettings, table(raw, "spool"), "spool", path=deadletters.parent / "spool.sqlite")
    metrics = section(MetricsSettings, table(raw, "metrics"), "metrics")
    return CollectorConfig(mqtt, routes, influx(table(raw, "influxdb")), batch, limits, deadletters, spool, metrics)


def _routes(subscriptions: Any) -> list[Route]:
    """The `[[subscriptions]]` tables as routes: at least one, known formats, valid filters."""
    if not isinstance(subscriptions, list) or not subscriptions:
        raise ConfigError("subscriptions", "at least one [[subscriptions]] table is required",
                          'e.g. topic = "iotorino/v1/#", format = "native"')
    routes = []
    for i, found in enumerate(subscriptions):
        key = f"subscriptions[{i}]"
        if not isinstance(found, dict):
            raise ConfigError(key, f"must be a table, got {found!r}", "[[subscriptions]]")
        sub = section(Subscription, found, key)
        if sub.format not in FORMATS:
            raise ConfigError(key + ".format", f"unknown format {sub.format!r}", ", ".join(FORMATS))
        if not sub.topic or "#" in sub.topic[:-1]:
            raise ConfigError(key + ".topic", f"invalid topic filter {sub.topic!r}", "an MQTT filter; # only at the end")
        routes.append(Route(sub.topic, sub.format))
    return routes
