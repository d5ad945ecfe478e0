"""The web package depends only on the core and the exports' public API (never on collectors)."""

from __future__ import annotations

import ast
from pathlib import Path

import iotorino.export
import iotorino.web

WEB = Path(iotorino.web.__file__).parent


def imported_modules():
    for source in WEB.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                yield source, node.module, [a.name for a in node.names]
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    yield source, alias.name, []


def test_web_imports_only_core_web_and_the_export_package():
    for source, module, names in imported_modules():
        if module.startswith(("iotorino", "ingest")):
            assert module.startswith(("iotorino.core", "iotorino.web", "iotorino.schools", "iotorino.indicators")) or module in ("iotorino.export",), (source, module)
            if module == "iotorino.export":
                assert set(names) <= set(iotorino.export.__all__), (source, names)
