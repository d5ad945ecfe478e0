"""Where exports read from and write to: environment variables, checked by the project's config loader.

- `IOTORINO_INFLUX_URL`   InfluxDB v1 HTTP API (default http://127.0.0.1:8086)
- `IOTORINO_INFLUX_DB`    database (default iotorino)
- `IOTORINO_INFLUX_USER`, `IOTORINO_INFLUX_PASSWORD`  optional credentials (never logged)
- `IOTORINO_INFLUX_TIMEOUT_S`  seconds to wait for InfluxDB (default 10)
- `IOTORINO_EXPORT_DIR`   output directory (default var/exports in the project)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from iotorino.core import paths
from iotorino.core.config import from_environment, http_url, positive, setting
from iotorino.core.store.influx_v1 import InfluxV1Settings


@dataclass(frozen=True)
class ExportSettings:
    """The exports' settings, each read from the environment variable in `VARIABLES`."""

    url: str = setting("http://127.0.0.1:8086", check=http_url)
    """IOTORINO_INFLUX_URL: base URL of the InfluxDB 1.x HTTP API read from."""
    database: str = "iotorino"
    """IOTORINO_INFLUX_DB: the database."""
    username: str = ""
    """IOTORINO_INFLUX_USER: user name; empty: no authentication."""
    timeout_s: float = setting(10.0, check=positive())
    """IOTORINO_INFLUX_TIMEOUT_S: seconds to wait for an answer."""
    export_dir: Path = paths.VAR / "exports"
    """IOTORINO_EXPORT_DIR: where partitions are written."""
    password: str = setting("", derived=True, repr=False)
    """IOTORINO_INFLUX_PASSWORD: the password (never logged)."""


VARIABLES = {"url": "IOTORINO_INFLUX_URL", "database": "IOTORINO_INFLUX_DB", "username": "IOTORINO_INFLUX_USER",
             "timeout_s": "IOTORINO_INFLUX_TIMEOUT_S", "export_dir": "IOTORINO_EXPORT_DIR"}


def from_env(env: Mapping[str, str] | None = None) -> ExportSettings:
    """The exports' settings from `IOTORINO_*` (see module docstring); `ConfigError` naming the variable."""
    env = os.environ if env is None else env
    return from_environment(ExportSettings, env, VARIABLES, password=env.get("IOTORINO_INFLUX_PASSWORD", ""))


def influx_from_env(env: Mapping[str, str] | None = None) -> InfluxV1Settings:
    """InfluxDB settings from `IOTORINO_INFLUX_*` (see module docstring)."""
    s = from_env(env)
    return InfluxV1Settings(url=s.url, database=s.database, username=s.username, password=s.password,
                            timeout_s=s.timeout_s)


def export_dir_from_env(env: Mapping[str, str] | None = None) -> Path:
    """Output directory from `IOTORINO_EXPORT_DIR` (default var/exports)."""
    return from_env(env).export_dir
