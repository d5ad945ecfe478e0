"""Every configuration file against its dataclasses: it loads, every key is known and documented, and
the settings that must agree across files (the monitor's window_s and the gateways') do."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import tomllib
from pathlib import Path

import pytest

from ingest.ble_beacons import config as gateway_config
from ingest.mqtt import config as collector_config
from iotorino.beacons import config as monitor_config
from iotorino import cli
from iotorino.beacons.health import Thresholds
from iotorino.commands import config as config_check
from iotorino.core import config, paths
from iotorino.export import settings as export_settings

COLLECTOR_TABLES = {
    "mqtt": collector_config.MqttSettings, "subscriptions": collector_config.Subscription,
    "influxdb": config.InfluxTable, "batch": collector_config.BatchSettings, "limits": collector_config.LimitsTable,
    "deadletters": collector_config.DeadLettersTable, "spool": collector_config.SpoolSettings,
    "metrics": collector_config.MetricsSettings,
}
GATEWAY_TABLES = {"gateway": gateway_config.GatewayConfig, "mqtt": gateway_config.MqttConfig}
MONITOR_TABLES = {
    "monitor": monitor_config.MonitorConfig, "thresholds": Thresholds, "mqtt": monitor_config.MqttConfig,
    "api": monitor_config.ApiConfig, "influxdb": config.InfluxTable,
}
# (file, loader, its tables, keys a table need not show: those of another API or of no use there)
SAMPLES = [
    (paths.ROOT / "ingest/mqtt/sample.toml", collector_config.load, COLLECTOR_TABLES, {}),
    (paths.ROOT / "ingest/ble_beacons/sample.toml", gateway_config.load, GATEWAY_TABLES, {}),
    (paths.ROOT / "iotorino/beacons/sample.toml", monitor_config.load, MONITOR_TABLES,
     {"influxdb": {"org", "bucket", "token_env"}}),
]
# Tables without fixed keys: the monitor's [gateways.<id>] places.
FREE_TABLES = {"gateways"}
def config_files() -> list[Path]:
    """The committed sample files and every component config under deploy/ (stack.toml is the production
    stack's settings, checked by iotorino.provision.settings in tests/provision)."""
    return [path for path, *_ in SAMPLES] + sorted(p for p in (paths.ROOT / "deploy").glob("*.toml")
                                                   if p.name != "stack.toml")


def documented_fields(cls: type) -> set[str]:
    """Fields of dataclass `cls` (and its bases) with a docstring right under them."""
    found = set()
    for klass in cls.__mro__:
        if not dataclasses.is_dataclass(klass):
            continue
        body = ast.parse(inspect.getsource(klass)).body[0].body
        for statement, following in zip(body, body[1:]):
            if (isinstance(statement, ast.AnnAssign) and isinstance(following, ast.Expr)
                    and isinstance(following.value, ast.Constant) and isinstance(following.value.value, str)):
                found.add(statement.target.id)
    return found


def test_every_config_file_loads_and_they_agree(capsys) -> None:
    files = config_files()
    assert cli.main(["config", "check", *map(str, files)]) == 0
    kinds = [kind for _, kind, _ in config_check.load_all(files)]
    assert {"collector", "gateway", "monitor"} <= set(kinds) and len(capsys.readouterr().out.splitlines()) == len(files)


TABLE_CLASSES = sorted({cls for _, _, tables, _ in SAMPLES for cls in tables.values()}
                       | {config.MqttClient, export_settings.ExportSettings},
                       key=lambda c: c.__qualname__ + c.__module__)


@pytest.mark.parametrize("cls", TABLE_CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_setting_has_a_docstring(cls: type) -> None:
    fields = {f.name for f in dataclasses.fields(cls)}
    assert fields - documented_fields(cls) == set()


@pytest.mark.parametrize("path, loader, tables, exempt", SAMPLES, ids=lambda v: v.name if isinstance(v, Path) else "")
def test_samples_show_every_key_of_every_table(path: Path, loader, tables: dict, exempt: dict) -> None:
    text = path.read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    shown = set(raw) | {t for t in tables if re.search(rf"^#? ?\[+{t}\]+", text, re.M)}
    assert shown - FREE_TABLES == set(tables)
    for table, cls in tables.items():
        missing = [key for key in config.keys(cls) if key not in exempt.get(table, set())
                   and not re.search(rf"^#? ?{key} = ", text, re.M)]
        assert missing == [], f"[{table}] keys not shown in {path.name}"


def test_sample_defaults_are_the_dataclass_defaults() -> None:
    """A value written in a sample is the default unless the sample says why it differs (defaults written once)."""
    differing = []
    for path, _, tables, _ in SAMPLES:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        for table, cls in tables.items():
            found = raw.get(table, {})
            for f in dataclasses.fields(cls):
                if isinstance(found, dict) and f.name in found and f.default is not dataclasses.MISSING:
                    default = str(f.default).removeprefix(f"{paths.ROOT}/")  # project paths are written relative
                    if found[f.name] != f.default and str(found[f.name]) != default:
                        differing.append((path.name, f"{table}.{f.name}", found[f.name], f.default))
    # The only value a sample sets on purpose: an example metrics endpoint.
    assert differing == [("sample.toml", "metrics.listen", "127.0.0.1:9464", "")]


def test_a_gateway_window_other_than_the_monitors_is_named(tmp_path, capsys) -> None:
    gateway = tmp_path / "gw.toml"
    gateway.write_text('[gateway]\nid = "GW-2"\nwindow_s = 60\n')
    monitor = paths.ROOT / "iotorino/beacons/sample.toml"
    assert cli.main(["config", "check", str(monitor), str(gateway)]) == 2
    err = capsys.readouterr().err
    assert f"config key 'thresholds.window_s ({monitor})': 30 differs from gateway.window_s ({gateway}) = 60" in err
