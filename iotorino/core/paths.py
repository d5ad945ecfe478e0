"""Where the project's data lives: the committed schemas/ and hardware/, and var/ for state.

The repository root is found from this file; `IOTORINO_HOME` overrides it (for
an installation that keeps schemas/ and hardware/ elsewhere).
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("IOTORINO_HOME") or Path(__file__).resolve().parents[2])
SCHEMAS = ROOT / "schemas"
HARDWARE = ROOT / "hardware"
DAGS = ROOT / "dags"
VAR = ROOT / "var"
