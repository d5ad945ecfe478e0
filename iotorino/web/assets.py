"""The browser libraries the pages use: pinned in package.json/package-lock.json, copied into static/vendor.

`vendor()` (run by scripts/setup.sh after `npm ci`)
copies the files below from node_modules; the app serves them at
/static/vendor/... and refuses to start without them. No CDN.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).parent
NODE_MODULES = HERE / "node_modules"
VENDOR = HERE / "static" / "vendor"
# served name -> file in node_modules
FILES = {
    "uplot/uPlot.iife.min.js": "uplot/dist/uPlot.iife.min.js",
    "uplot/uPlot.min.css": "uplot/dist/uPlot.min.css",
    "uplot/LICENSE": "uplot/LICENSE",
    "leaflet/leaflet.js": "leaflet/dist/leaflet.js",
    "leaflet/leaflet.css": "leaflet/dist/leaflet.css",
    "leaflet/LICENSE": "leaflet/LICENSE",
}


def missing() -> list[str]:
    """Served names whose file is not in static/vendor."""
    return [name for name in FILES if not (VENDOR / name).is_file()]


def vendor() -> list[Path]:
    """Copy the files from node_modules into static/vendor; return the copies."""
    copied = []
    for name, source in FILES.items():
        src = NODE_MODULES / source
        if not src.is_file():
            raise SystemExit(f"{src} missing: run `npm ci` in {HERE}")
        target = VENDOR / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)
        copied.append(target)
    return copied


def main() -> int:
    """Vendor the files, one line per file on stderr."""
    for path in vendor():
        print(f"vendored {path.relative_to(HERE)}", file=sys.stderr)
    return 0
