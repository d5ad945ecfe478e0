"""Where exports read from and write to: environment variables, validated when asked for.

- `IOTORINO_INFLUX_URL`   InfluxDB v1 HTTP API (default http://127.0.0.1:8086)
- `IOTORINO_INFLUX_DB`    database (default iotorino)
- `IOTORINO_INFLUX_USER`, `IOTORINO_INFLUX_PASSWORD`  optional credentials (never logged)
- `IOTORINO_EXPORT_DIR`   output directory (default var/exports in the project)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping

from iotorino.core import paths
from iotorino.core.errors import ConfigError
from iotorino.core.store.influx_v1 import InfluxV1Settings

DEFAULT_URL = "http://127.0.0.1:8086"
DEFAULT_DB = "iotorino"


def influx_from_env(env: Mapping[str, str] | None = None) -> InfluxV1Settings:
    """InfluxDB settings from `IOTORINO_INFLUX_*` (see module docstring)."""
    env = os.environ if env is None else env
    url = env.get("IOTORINO_INFLUX_URL") or DEFAULT_URL
    if not url.startswith(("http://", "https://")):
        raise ConfigError("IOTORINO_INFLUX_URL", f"{url!r} is not an HTTP URL", "http://host:port or https://host:port")
    return InfluxV1Settings(
        url=url,
        database=env.get("IOTORINO_INFLUX_DB") or DEFAULT_DB,
        username=env.get("IOTORINO_INFLUX_USER", ""),
        password=env.get("IOTORINO_INFLUX_PASSWORD", ""),
    )


def export_dir_from_env(env: Mapping[str, str] | None = None) -> Path:
    """Output directory from `IOTORINO_EXPORT_DIR` (default var/exports)."""
    env = os.environ if env is None else env
    return Path(env.get("IOTORINO_EXPORT_DIR") or paths.VAR / "exports")
