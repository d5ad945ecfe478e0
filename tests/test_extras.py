"""Optional extras: each component's packages are an extra of pyproject.toml, and a missing one gives a
one-line message naming what to install."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import packages_distributions

import pytest

from iotorino import cli
from iotorino.core import extras
from tests.conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
OPTIONAL = PYPROJECT["project"]["optional-dependencies"]


def names(requirements: list[str]) -> set[str]:
    """Distribution names of requirement strings, normalised."""
    return {re.split(r"[<>=!\[ ;]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


@pytest.mark.parametrize("extra", sorted(extras.EXTRAS))
def test_each_extra_lists_the_modules_of_its_distributions(extra: str) -> None:
    installed = {m: {d.lower().replace("_", "-") for d in ds} for m, ds in packages_distributions().items()}
    required = names(OPTIONAL[extra])
    # apache-airflow is a meta-distribution: its modules come from apache-airflow-core and friends.
    def provides(module: str, name: str) -> bool:
        return any(d == name or d.startswith(name + "-") for d in installed[module])

    assert all(any(provides(m, name) for name in required) for m in extras.EXTRAS[extra])
    assert all(any(provides(m, name) for m in extras.EXTRAS[extra]) for name in required)


def test_all_is_every_component_and_the_core_is_light() -> None:
    assert OPTIONAL["all"] == [f"iotorino[{','.join(['collector', 'ble', 'simulate', 'alerts', 'export', 'web'])}]"]
    assert set(extras.EXTRAS) == {"collector", "ble", "simulate", "alerts", "export", "web", "production"}
    heavy = names([r for extra in extras.EXTRAS for r in OPTIONAL[extra]])
    assert names(PYPROJECT["project"]["dependencies"]) & heavy == set()


@pytest.mark.parametrize("argv, hidden, extra", [
    (["collect", "ble", "--config", "gw.toml", "--replay", "x.jsonl"], "bleak", "ble"),
    (["beacons", "serve", "--config", "beacons.toml"], "fastapi", "ble"),
    (["export", "list"], "airflow", "export"),
    (["simulate", "--duration", "1h"], "paho", "simulate"),
    (["demo"], "pyarrow", "export"),
])
def test_a_missing_extra_is_one_line_naming_it(argv, hidden, extra, monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, hidden, None)  # as if not installed: find_spec answers None
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"install iotorino[{extra}]" in err and repr(hidden) in err


def test_every_command_is_listed_without_any_extra(monkeypatch, capsys) -> None:
    for module in {m for modules in extras.EXTRAS.values() for m in modules}:
        monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    assert all(name in shown for name in cli.COMMANDS)


def test_unknown_options_are_still_refused(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["collect", "mqtt", "--config", "x.toml", "--bogus"])
    assert done.value.code == 2 and "unrecognized arguments: --bogus" in capsys.readouterr().err
