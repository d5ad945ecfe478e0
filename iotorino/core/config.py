"""One configuration loader: typed dataclasses read from TOML and checked at start.

Each component describes its settings as frozen dataclasses, with a docstring
under every field and its default written once, there. `section()` builds
one from a TOML table: an unknown key (usually a typo), a value of the wrong
type or one that the field's check refuses raises `ConfigError` naming the
key, the value and what is accepted. Checks are attached to fields with
`setting(default, check=...)`.

`MqttClient` is the one `[mqtt]` client section that every MQTT client of the
project shares (collector, BLE gateway, beacon monitor, simulator): host,
port, TLS with CA file, client certificate and key, user name, and the
password from an environment variable (`password_env`) or a file
(`password_file`, e.g. a container secret), never from the config file.
Components add their own keys by subclassing it. `influx()` reads the
`[influxdb]` table (API v1 or v2).

Secrets never appear in a repr, an error or a log line.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, TypeVar

from iotorino.core.errors import ConfigError
from iotorino.core.sites import ID_PATTERN
from iotorino.core.store.influx_v1 import InfluxV1Settings
from iotorino.core.store.influx_v2 import InfluxV2Settings

T = TypeVar("T")
Check = Callable[[str, Any], None]
"""Raises `ConfigError(key, ...)` when a value cannot be used."""

_CHECK = "iotorino.check"
_DERIVED = "iotorino.derived"


def setting(default: Any = MISSING, *, check: Check | None = None, derived: bool = False,
            repr: bool = True) -> Any:  # noqa: A002 (dataclasses' own name)
    """A dataclass field whose value `section()` checks with `check`; `derived` fields are not TOML keys
    (the loader fills them in, e.g. a password read from the environment)."""
    metadata = {_CHECK: check, _DERIVED: derived}
    if default is MISSING:
        return field(metadata=metadata, repr=repr)
    return field(default=default, metadata=metadata, repr=repr)


# --- checks -------------------------------------------------------------------------------------------


def positive(high: float | None = None) -> Check:
    """A number above 0 (and at most `high`)."""
    accepted = f"a number > 0{f' and <= {high:g}' if high else ''}"

    def check(key: str, value: Any) -> None:
        if not value > 0 or (high is not None and value > high):
            raise ConfigError(key, f"invalid value {value!r}", accepted)
    return check


def non_negative(meaning_of_zero: str = "") -> Check:
    """A number of 0 or more."""
    accepted = f"a number >= 0{f' (0 = {meaning_of_zero})' if meaning_of_zero else ''}"

    def check(key: str, value: Any) -> None:
        if value < 0:
            raise ConfigError(key, f"invalid value {value!r}", accepted)
    return check


def in_range(low: float, high: float) -> Check:
    """A number in [low, high]."""
    def check(key: str, value: Any) -> None:
        if not low <= value <= high:
            raise ConfigError(key, f"{value!r} is out of range", f"{low:g}-{high:g}")
    return check


def port(key: str, value: Any) -> None:
    """A TCP port."""
    if not 1 <= value <= 65_535:
        raise ConfigError(key, f"invalid port {value!r}", "an integer 1-65535")


def one_of(*choices: str) -> Check:
    """One of `choices`."""
    def check(key: str, value: Any) -> None:
        if value not in choices:
            raise ConfigError(key, f"{value!r} is unknown", ", ".join(choices))
    return check


def identifier(key: str, value: Any) -> None:
    """An id usable as an MQTT topic level and an InfluxDB tag value: 1-63 letters, digits and -."""
    if not ID_PATTERN.fullmatch(value) or len(value) > 63:
        raise ConfigError(key, f"{value!r} is not a usable id", "1-63 letters, digits and -")


def http_url(key: str, value: Any) -> None:
    """An http:// or https:// URL."""
    if not value.startswith(("http://", "https://")):
        raise ConfigError(key, f"not an HTTP URL: {value!r}", "http://host:port or https://...")


def listen_address(key: str, value: Any) -> None:
    """host:port, or empty for none."""
    if value and not value.rpartition(":")[2].isdigit():
        raise ConfigError(key, f"invalid address {value!r}", 'host:port, e.g. "127.0.0.1:9464"')


# --- reading ------------------------------------------------------------------------------------------


def read_toml(path: Path) -> dict[str, Any]:
    """The parsed TOML file at `path`; `ConfigError` naming --config if it is missing or invalid."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("--config", f"file not found: {path}", "a readable TOML file") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError("--config", f"{path} is not valid TOML: {error}", "a TOML file") from None


def table(raw: Mapping[str, Any], key: str, required: bool = False, prefix: str = "") -> dict[str, Any]:
    """The TOML table `key` of `raw` ({} when optional and absent); `ConfigError` if it is not a table."""
    value = raw.get(key, None if required else {})
    if not isinstance(value, dict):
        raise ConfigError(prefix + key, "missing or not a table", f"a [{prefix + key}] table")
    return value


def known_keys(prefix: str, found: Mapping[str, Any], known: set[str] | typing.Iterable[str]) -> None:
    """`ConfigError` naming the first key of `found` not in `known` (usually a typo)."""
    known = set(known)
    for key in found:
        if key not in known:
            raise ConfigError(prefix + key, "unknown key", ", ".join(sorted(prefix + k for k in known)))


def keys(cls: type) -> tuple[str, ...]:
    """The TOML keys of settings dataclass `cls` (its fields, derived ones left out)."""
    return tuple(f.name for f in dataclasses.fields(cls) if not f.metadata.get(_DERIVED))


def section(cls: type[T], found: Mapping[str, Any], name: str, **given: Any) -> T:
    """Build `cls` from the TOML table `found` (keys prefixed `name.` in errors); `given` values (derived
    fields, or defaults the caller computes) are used as they are for keys the table does not set."""
    prefix = f"{name}." if name else ""
    known_keys(prefix, found, keys(cls))
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        key = prefix + f.name
        if f.name in found and not f.metadata.get(_DERIVED):
            value = _typed(key, found[f.name], hints[f.name])
            check = f.metadata.get(_CHECK)
            if check is not None:
                check(key, value)
            values[f.name] = value
        elif f.name in given:
            values[f.name] = given[f.name]
        elif f.default is MISSING and f.default_factory is MISSING:
            raise ConfigError(key, "is required", _type_name(hints[f.name]))
    return cls(**values)


def from_environment(cls: type[T], env: Mapping[str, str], names: Mapping[str, str], **given: Any) -> T:
    """Build `cls` from environment variables (`names`: field -> variable; unset or empty = the default), the
    variable named in errors; `given` fills fields no variable sets (e.g. a password)."""
    hints = typing.get_type_hints(cls)
    values = dict(given)
    for f in dataclasses.fields(cls):
        variable = names.get(f.name)
        text = env.get(variable, "") if variable else ""
        if not text:
            continue
        value = _typed(variable, _from_text(text, hints[f.name]), hints[f.name])
        check = f.metadata.get(_CHECK)
        if check is not None:
            check(variable, value)
        values[f.name] = value
    return cls(**values)


def _from_text(text: str, hint: Any) -> Any:
    """An environment variable's text as the TOML value it stands for (left as text when it is not one)."""
    kinds = typing.get_args(hint) if _is_union(hint) else (hint,)
    if bool in kinds:
        return {"true": True, "false": False}.get(text.lower(), text)
    for kind in (int, float):
        if kind in kinds:
            try:
                return kind(text)
            except ValueError:
                return text
    return text


def agree(key: str, value: Any, other_key: str, other_value: Any) -> None:
    """`ConfigError` unless two settings that must match (often in different files) are equal."""
    if value != other_value:
        raise ConfigError(key, f"{value!r} differs from {other_key} = {other_value!r}", f"{other_value!r}, as {other_key}")


def _typed(key: str, value: Any, hint: Any) -> Any:
    """`value` as type `hint` (int for float, str for Path), or `ConfigError`."""
    kinds = [k for k in typing.get_args(hint) if k is not type(None)] if _is_union(hint) else [hint]
    for kind in kinds:
        if kind is bool and isinstance(value, bool):
            return value
        if kind is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if kind is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if kind in (str, Path) and isinstance(value, str):
            return kind(value)
    raise ConfigError(key, f"expected {_type_name(hint)}, got {value!r}", _type_name(hint))


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _type_name(hint: Any) -> str:
    kinds = [k for k in typing.get_args(hint) if k is not type(None)] if _is_union(hint) else [hint]
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string", Path: "a path"}
    return " or ".join(names.get(k, getattr(k, "__name__", str(k))) for k in kinds)


# --- secrets ------------------------------------------------------------------------------------------


def secret(found: Mapping[str, Any], prefix: str, env_key: str, file_key: str | None = None) -> str:
    """The secret named by `env_key` (an environment variable) or `file_key` (a file; its trailing newline
    dropped); empty when neither is set. The secret itself never appears in an error."""
    env_name = found.get(env_key, "")
    path = found.get(file_key, "") if file_key else ""
    if env_name and path:
        raise ConfigError(prefix + file_key, f"set together with {prefix + env_key}", "one of the two")
    if env_name:
        if env_name not in os.environ:
            raise ConfigError(prefix + env_key, f"environment variable {env_name} is not set",
                              "the name of a set variable")
        return os.environ[env_name]
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as error:
            raise ConfigError(prefix + file_key, f"cannot read {path!r}: {error.strerror}",
                              "a readable file holding only the secret") from None
    return ""


# --- the shared MQTT client section -------------------------------------------------------------------


def _readable_file(key: str, value: Any) -> None:
    if value and not Path(value).is_file():
        raise ConfigError(key, f"file {value!r} does not exist", "a readable PEM file, or empty")


@dataclass(frozen=True)
class MqttClient:
    """How an MQTT client of the project reaches the broker (the `[mqtt]` table of every component)."""

    host: str = "127.0.0.1"
    """Broker host name or address. Production brokers listen with TLS on 8883."""
    port: int = setting(1883, check=port)
    """Broker TCP port: 1883 plain, 8883 with TLS."""
    client_id: str = ""
    """MQTT client id; empty: the component's own default (see its sample file)."""
    keepalive_s: int = setting(30, check=positive())
    """Seconds between keep-alive pings while idle."""
    username: str = ""
    """User name on the broker; empty: connect anonymously."""
    password_env: str = ""
    """Name of the environment variable holding the broker password (never the password itself)."""
    password_file: str = ""
    """Or: a file holding only the password (e.g. /run/secrets/mqtt_password)."""
    tls: bool = False
    """Connect with TLS."""
    ca_file: str = setting("", check=_readable_file)
    """PEM file of the CA that signed the broker's certificate; empty: the system's CA store."""
    cert_file: str = setting("", check=_readable_file)
    """PEM client certificate, for brokers that require one (with `key_file` unless it holds the key)."""
    key_file: str = setting("", check=_readable_file)
    """PEM private key of `cert_file`."""
    password: str = setting("", derived=True, repr=False)
    """The password read from `password_env` or `password_file` (filled in by the loader)."""

    def configure_paho(self, client: T) -> T:
        """Apply credentials and TLS to a paho-mqtt client before it connects; returns the client."""
        if self.username or self.password:
            client.username_pw_set(self.username, self.password or None)
        if self.tls:
            client.tls_set(ca_certs=self.ca_file or None, certfile=self.cert_file or None,
                           keyfile=self.key_file or None)
        return client


def mqtt_client(raw: Mapping[str, Any], cls: type[T] = MqttClient, name: str = "mqtt", **given: Any) -> T:
    """The `[mqtt]` table of `raw` as `cls` (`MqttClient` or a component's subclass of it), password
    resolved, TLS files checked; `given` fills keys the file leaves out (e.g. a computed client id)."""
    found = table(raw, name)
    prefix = f"{name}."
    settings = section(cls, found, name, password=secret(found, prefix, "password_env", "password_file"), **given)
    if (settings.ca_file or settings.cert_file or settings.key_file) and not settings.tls:
        key = prefix + next(k for k in ("ca_file", "cert_file", "key_file") if getattr(settings, k))
        raise ConfigError(key, "is set but mqtt.tls is false", "tls = true, or no certificate files")
    if settings.key_file and not settings.cert_file:
        raise ConfigError(prefix + "key_file", "is set without cert_file", "cert_file with key_file")
    return settings


# --- InfluxDB -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InfluxTable:
    """The `[influxdb]` table: where readings are stored (1.x API, or 2.x with org, bucket and token)."""

    api: str = setting("v1", check=one_of("v1", "v2"))
    """v1: InfluxDB 1.x API (/write, /query; also served by 2.x and 3.x). v2: the 2.x write API."""
    url: str = setting("http://127.0.0.1:8086", check=http_url)
    """Base URL of the HTTP API."""
    database: str = "iotorino"
    """v1: the database."""
    retention_policy: str = ""
    """v1: the retention policy written to; empty: the database's default."""
    username: str = ""
    """v1: user name; empty: no authentication."""
    password_env: str = ""
    """v1: name of the environment variable holding the password."""
    org: str = ""
    """v2: the organisation."""
    bucket: str = ""
    """v2: the bucket."""
    token_env: str = ""
    """v2: name of the environment variable holding the API token."""
    timeout_s: float = setting(10.0, check=positive())
    """Seconds to wait for an answer before the store counts as unreachable."""
    gzip: bool = True
    """Compress request bodies (v1: those of at least 4 KiB, and not to a loopback address, where compressing
    only costs CPU on both ends)."""


_ONLY_FOR = {"v1": ("database", "retention_policy", "username", "password_env"), "v2": ("org", "bucket", "token_env")}


def influx(found: Mapping[str, Any], name: str = "influxdb") -> InfluxV1Settings | InfluxV2Settings:
    """The `[influxdb]` table as the store's settings, secrets read from the environment."""
    prefix = f"{name}."
    t = section(InfluxTable, found, name)
    other = "v2" if t.api == "v1" else "v1"
    for key in _ONLY_FOR[other]:
        if key in found:
            raise ConfigError(prefix + key, f"is a setting of api = {other!r}, not {t.api!r}",
                              ", ".join(prefix + k for k in _ONLY_FOR[t.api]))
    if t.api == "v1":
        return InfluxV1Settings(t.url, t.database, t.retention_policy, t.username,
                                secret(found, prefix, "password_env"), t.timeout_s, t.gzip)
    for key in ("org", "bucket"):
        if not getattr(t, key):
            raise ConfigError(prefix + key, "is required with api = 'v2'", "a string")
    return InfluxV2Settings(t.url, t.org, t.bucket, secret(found, prefix, "token_env"), t.timeout_s, t.gzip)
