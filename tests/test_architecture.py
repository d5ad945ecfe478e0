"""Layers import downward only: the import contract of pyproject.toml ([tool.importlinter]) holds, and the
core has no import cycle (e.g. inventory <-> inventory_files)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

from tests.conftest import ROOT


def test_the_import_contract_holds() -> None:
    # A subprocess: import-linter reconfigures logging, which would silence the loggers of later tests.
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def test_the_core_has_no_import_cycle() -> None:
    graph = grimp.build_graph("iotorino", cache_dir=None)
    core = {m for m in graph.modules if m.startswith("iotorino.core")}
    imports = {m: graph.find_modules_directly_imported_by(m) & core - {m} for m in core}
    cycles = []
    for module in sorted(core):
        # A cycle through `module`: a module it imports that leads back to it.
        for imported in sorted(imports[module]):
            chain = graph.find_shortest_chain(importer=imported, imported=module)
            if chain and all(link in core for link in chain):
                cycles.append((module, *chain))
    assert cycles == []


def test_the_collector_runs_without_the_other_extras() -> None:
    """With every module of the ble, simulate, export and web extras hidden, `iotorino collect mqtt` still
    parses its command line, loads its sample config and builds its pipeline."""
    script = """
import sys
for name in ("bleak", "paho", "fastapi", "uvicorn", "airflow", "pandas", "pyarrow", "tqdm"):
    sys.modules[name] = None
from iotorino.cli import build_parser
args = build_parser().parse_args(["collect", "mqtt", "--config", "ingest/mqtt/sample.toml"])
from ingest.mqtt import config
from ingest.mqtt.app import build_pipeline
build_pipeline(config.load(args.config))
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "ok", done.stderr
