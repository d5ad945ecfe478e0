"""The collector's configuration: a TOML file (see sample.toml), checked at start.

Every problem names the key and what would be accepted. Secrets are never in
the file: passwords come from the environment variable the file names.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.mqtt.formats import FORMATS
from ingest.mqtt.pipeline import Limits, Route
from iotorino.core import paths
from iotorino.core.errors import ConfigError
from iotorino.core.store.influx_v1 import InfluxV1Settings
from iotorino.core.store.influx_v2 import InfluxV2Settings


@dataclass(frozen=True)
class MqttSettings:
    """Broker connection and session."""

    host: str = "127.0.0.1"
    port: int = 1883
    # Fixed, so the broker keeps this collector's session (and its queued messages) across restarts.
    client_id: str = "iotorino-collector"
    username: str = ""
    password: str = field(default="", repr=False)
    keepalive_s: int = 30
    # How long the broker keeps the session while the collector is away (seconds).
    session_expiry_s: int = 7 * 86_400
    # Most unacknowledged messages the broker may send us at once (MQTT v5 Receive Maximum).
    receive_maximum: int = 20_000
    tls: bool = False
    ca_file: str = ""
    # Empty: subscribe directly. Otherwise subscribe as $share/<share_group>/<topic>.
    share_group: str = ""
    # Seconds connected without any message before the watchdog forces a reconnect; 0 = off.
    silence_timeout_s: int = 300


@dataclass(frozen=True)
class BatchSettings:
    """How readings are grouped into writes (group commit: see `Collector._take_batch`)."""

    max_readings: int = 5000
    # The longest a batch keeps gathering while another write is in flight (seconds); an idle store
    # gets every message at once.
    max_delay_s: float = 0.2


@dataclass(frozen=True)
class SpoolSettings:
    """The on-disk spool that takes batches while InfluxDB is down or slow."""

    path: Path
    # Bounds; when either is reached the collector stops acknowledging (the broker keeps the rest).
    max_messages: int = 1_000_000
    max_bytes: int = 1 << 30  # payload + line protocol, bytes


@dataclass(frozen=True)
class MetricsSettings:
    """The Prometheus endpoint."""

    # "host:port" to serve /metrics on; empty = no endpoint.
    listen: str = ""


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
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("--config", f"file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("--config", f"{path} is not valid TOML: {exc}") from None
    return from_dict(raw)


def from_dict(raw: dict[str, Any]) -> CollectorConfig:
    """Build a config from parsed TOML."""
    _only(raw, "", {"mqtt", "subscriptions", "influxdb", "batch", "limits", "deadletters", "spool", "metrics"})
    m = _table(raw, "mqtt")
    _only(m, "mqtt.", {f for f in MqttSettings.__dataclass_fields__ if f != "password"} | {"password_env"})
    mqtt = MqttSettings(
        host=_get(m, "mqtt.host", str, "127.0.0.1"),
        port=_port(m, "mqtt.port", 1883),
        client_id=_get(m, "mqtt.client_id", str, "iotorino-collector"),
        username=_get(m, "mqtt.username", str, ""),
        password=_secret(m, "mqtt.password_env"),
        keepalive_s=_positive(m, "mqtt.keepalive_s", 30),
        session_expiry_s=_positive(m, "mqtt.session_expiry_s", 7 * 86_400),
        receive_maximum=_positive(m, "mqtt.receive_maximum", 20_000, high=65_535),
        tls=_get(m, "mqtt.tls", bool, False),
        ca_file=_get(m, "mqtt.ca_file", str, ""),
        share_group=_get(m, "mqtt.share_group", str, ""),
        silence_timeout_s=_non_negative(m, "mqtt.silence_timeout_s", 300),
    )
    if not mqtt.client_id:
        raise ConfigError("mqtt.client_id", "must not be empty: a persistent session needs a fixed client id")
    if "/" in mqtt.share_group or "+" in mqtt.share_group or "#" in mqtt.share_group:
        raise ConfigError("mqtt.share_group", f"invalid group name {mqtt.share_group!r}", "a name without / + #")

    subs = raw.get("subscriptions")
    if not isinstance(subs, list) or not subs:
        raise ConfigError("subscriptions", "at least one [[subscriptions]] table is required",
                          'e.g. topic = "iotorino/v1/#", format = "native"')
    routes = []
    for i, sub in enumerate(subs):
        key = f"subscriptions[{i}]"
        _only(sub, key + ".", {"topic", "format"})
        topic = _get(sub, key + ".topic", str, None)
        fmt = _get(sub, key + ".format", str, "native")
        if fmt not in FORMATS:
            raise ConfigError(key + ".format", f"unknown format {fmt!r}", ", ".join(FORMATS))
        if not topic or "#" in topic[:-1]:
            raise ConfigError(key + ".topic", f"invalid topic filter {topic!r}", "an MQTT filter; # only at the end")
        routes.append(Route(topic, fmt))

    influx = influx_settings(_table(raw, "influxdb"))
    b = _table(raw, "batch")
    _only(b, "batch.", {"max_readings", "max_delay_s"})
    batch = BatchSettings(
        max_readings=_positive(b, "batch.max_readings", 5000, high=100_000),
        max_delay_s=float(_positive(b, "batch.max_delay_s", 0.2)),
    )
    if mqtt.receive_maximum < 2 * batch.max_readings:
        # Two writers fill batches side by side; with fewer messages in flight every
        # batch would wait max_delay_s for messages the broker may not send yet.
        raise ConfigError("mqtt.receive_maximum", f"{mqtt.receive_maximum} is less than twice "
                          f"batch.max_readings ({batch.max_readings})",
                          f"at least {2 * batch.max_readings}, or a smaller batch.max_readings")
    lim = _table(raw, "limits")
    _only(lim, "limits.", {"max_payload_bytes", "max_future_s", "max_past_days"})
    limits = Limits(
        max_payload_bytes=_positive(lim, "limits.max_payload_bytes", 65_536),
        max_future_s=float(_positive(lim, "limits.max_future_s", 600)),
        max_past_s=float(_positive(lim, "limits.max_past_days", 30)) * 86_400,
    )
    d = _table(raw, "deadletters")
    _only(d, "deadletters.", {"path"})
    deadletters = Path(_get(d, "deadletters.path", str, str(paths.VAR / "collector" / "deadletters.sqlite")))
    sp = _table(raw, "spool")
    _only(sp, "spool.", {"path", "max_messages", "max_bytes"})
    spool = SpoolSettings(
        # Next to the dead letters unless said otherwise.
        path=Path(_get(sp, "spool.path", str, str(deadletters.parent / "spool.sqlite"))),
        max_messages=_positive(sp, "spool.max_messages", 1_000_000),
        max_bytes=_positive(sp, "spool.max_bytes", 1 << 30),
    )
    met = _table(raw, "metrics")
    _only(met, "metrics.", {"listen"})
    listen = _get(met, "metrics.listen", str, "")
    if listen and not listen.rpartition(":")[2].isdigit():
        raise ConfigError("metrics.listen", f"invalid address {listen!r}", 'host:port, e.g. "127.0.0.1:9464"')
    return CollectorConfig(mqtt, routes, influx, batch, limits, deadletters, spool, MetricsSettings(listen))


def influx_settings(i: dict) -> InfluxV1Settings | InfluxV2Settings:
    """The [influxdb] table: v1 (database, user/password) or v2 (org, bucket, token)."""
    api = _get(i, "influxdb.api", str, "v1")
    common = {"api", "url", "timeout_s", "gzip"}
    url = _get(i, "influxdb.url", str, "http://127.0.0.1:8086")
    if not url.startswith(("http://", "https://")):
        raise ConfigError("influxdb.url", f"not an HTTP URL: {url!r}", "http://host:port or https://...")
    timeout_s = float(_positive(i, "influxdb.timeout_s", 10))
    gzip = _get(i, "influxdb.gzip", bool, True)
    if api == "v1":
        _only(i, "influxdb.", common | {"database", "retention_policy", "username", "password_env"})
        return InfluxV1Settings(
            url=url,
            database=_get(i, "influxdb.database", str, "iotorino"),
            retention_policy=_get(i, "influxdb.retention_policy", str, ""),
            username=_get(i, "influxdb.username", str, ""),
            password=_secret(i, "influxdb.password_env"),
            timeout_s=timeout_s,
            gzip=gzip,
        )
    if api == "v2":
        _only(i, "influxdb.", common | {"org", "bucket", "token_env"})
        return InfluxV2Settings(
            url=url,
            org=_get(i, "influxdb.org", str, None),
            bucket=_get(i, "influxdb.bucket", str, None),
            token=_secret(i, "influxdb.token_env"),
            timeout_s=timeout_s,
            gzip=gzip,
        )
    raise ConfigError("influxdb.api", f"unknown API {api!r}", "v1, v2")


def _table(raw: dict, key: str) -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(key, f"must be a table, got {type(value).__name__}", f"[{key}]")
    return value


def _only(table: dict, prefix: str, allowed: set[str]) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(prefix + key, "unknown key", ", ".join(prefix + a for a in sorted(allowed)))


def _get(table: dict, key: str, kind: type, default: Any) -> Any:
    name = key.rsplit(".", 1)[-1]
    if name not in table:
        if default is None:
            raise ConfigError(key, "is required")
        return default
    value = table[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(key, f"expected {kind.__name__}, got {value!r}")
    return value


def _positive(table: dict, key: str, default: int, high: int | None = None) -> int | float:
    name = key.rsplit(".", 1)[-1]
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0 or (high and value > high):
        raise ConfigError(key, f"invalid value {value!r}", f"a number > 0{f' and <= {high}' if high else ''}")
    return value


def _non_negative(table: dict, key: str, default: int) -> int:
    value = table.get(key.rsplit(".", 1)[-1], default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(key, f"invalid value {value!r}", "an integer >= 0 (0 = off)")
    return value


def _port(table: dict, key: str, default: int) -> int:
    value = table.get(key.rsplit(".", 1)[-1], default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65_535:
        raise ConfigError(key, f"invalid port {value!r}", "an integer 1-65535")
    return value


def _secret(table: dict, key: str) -> str:
    """The value of the environment variable named at `key` (empty when the key is absent)."""
    env_name = _get(table, key, str, "")
    if not env_name:
        return ""
    if env_name not in os.environ:
        raise ConfigError(key, f"environment variable {env_name} is not set", "the name of a set variable")
    return os.environ[env_name]
