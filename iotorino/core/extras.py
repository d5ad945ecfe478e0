"""Optional parts of the installation: which extra of `pip install iotorino[...]` each component needs.

The core and the CLI need only the base dependencies; the collectors, the
beacon monitor, the simulator, the exports and the web app each come with an
extra (pyproject.toml). Where a command reaches a component, `require()`
turns a missing extra into one line naming what to install, instead of a
traceback from deep inside an import. Checking does not import the modules.
"""

from __future__ import annotations

import argparse
import importlib.util
from typing import Mapping

from iotorino.core.errors import PermanentError

# Extra -> the top-level modules it installs (their distributions are in pyproject.toml's extra).
EXTRAS: Mapping[str, tuple[str, ...]] = {
    "collector": ("influxdb_client",),
    "ble": ("bleak", "paho", "fastapi", "uvicorn", "pyarrow"),
    "simulate": ("paho",),
    "alerts": ("paho",),
    "export": ("airflow", "pandas", "pyarrow", "tqdm", "rdflib"),
    "web": ("fastapi", "uvicorn", "jinja2", "rdflib", "pandas", "pyarrow", "paho"),
    "production": ("cryptography", "psycopg2"),
}


class MissingExtra(PermanentError):
    """A component's packages are not installed: `extra` names what to install, `module` what is missing."""

    def __init__(self, extra: str, what: str, module: str) -> None:
        self.extra = extra
        self.module = module
        super().__init__(f"{what} needs the {extra!r} extra (module {module!r} is missing): "
                         f"install iotorino[{extra}], e.g. pip install 'iotorino[{extra}]'")


def missing(extra: str) -> str | None:
    """The first module of `extra` that is not installed, or None when the extra is complete."""
    for module in EXTRAS[extra]:
        if importlib.util.find_spec(module) is None:
            return module
    return None


def stand_in(parser: argparse.ArgumentParser, extra: str) -> None:
    """Let `parser` take any arguments, for a command whose `extra` is missing: running it then says what
    to install (`require`) rather than failing on unknown options."""
    parser.description = f"(needs iotorino[{extra}], not installed) {parser.description or ''}"
    parser.set_defaults(_missing_extra=extra)


def require(extra: str, what: str) -> None:
    """Raise `MissingExtra` when `extra` is not fully installed; `what` names the command or part needing it."""
    module = missing(extra)
    if module is not None:
        raise MissingExtra(extra, what, module)
