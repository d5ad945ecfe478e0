"""What the web application is given: the outside world passed in, validated when built.

- `exports_dir`  the open-data tree written by the exports (`IOTORINO_EXPORT_DIR`)
- `base_url`     the public root used in the DCAT catalogue and absolute links (`IOTORINO_PUBLIC_URL`)
- `store`        an InfluxDB reader client for live pages, or None (`IOTORINO_INFLUX_*`)
- `inventory`    a function returning the fleet inventory (schools, street units)
- `template_dirs` folders searched before the app's own templates (to override a page)
- `mqtt`         the broker connection of the live alert board (the shared `[mqtt]` section of
                 `iotorino web --config`: TLS, user `web`, password from a file or the environment), or None
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from iotorino.core import inventory as inventory_mod
from iotorino.core.errors import ConfigError

DEFAULT_BASE_URL = "http://127.0.0.1:8080"


@dataclass(frozen=True)
class WebSettings:
    """Settings of one web application instance (see the module docstring)."""

    exports_dir: Path
    base_url: str = DEFAULT_BASE_URL
    store: Any | None = None
    inventory: Callable[[], Any] = field(default=inventory_mod.default, repr=False)
    template_dirs: tuple[Path, ...] = ()
    mqtt: Any | None = None

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError("base_url", f"{self.base_url!r} is not an HTTP URL", "http(s)://host[:port][/path]")
        object.__setattr__(self, "exports_dir", Path(self.exports_dir))
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))


def from_env(env: Mapping[str, str] | None = None, *, with_store: bool = True) -> WebSettings:
    """Settings from the environment: `IOTORINO_EXPORT_DIR`, `IOTORINO_PUBLIC_URL`, `IOTORINO_INFLUX_*`."""
    from iotorino.core.store.influx_v1 import InfluxV1Client
    from iotorino.export import export_dir_from_env, influx_from_env

    env = os.environ if env is None else env
    store = InfluxV1Client(influx_from_env(env)) if with_store else None
    return WebSettings(
        exports_dir=export_dir_from_env(env),
        base_url=env.get("IOTORINO_PUBLIC_URL") or DEFAULT_BASE_URL,
        store=store,
    )
