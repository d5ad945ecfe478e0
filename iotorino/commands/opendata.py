"""`iotorino opendata build --out DIR` (static mirror) and `iotorino opendata rollups` (monthly/yearly files).

The static mirror is the portal as files — pages in Italian and English,
their JSON twins, the data files, manifests, change logs and the DCAT
catalogue — for any web server or object store (see iotorino/web/mirror.py).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `iotorino opendata`."""
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build = sub.add_parser("build", help="write the portal as static files")
    build.add_argument("--out", type=Path, required=True, help="output directory (created; existing files replaced)")
    build.add_argument("--exports", type=Path, help="open-data directory (default: $IOTORINO_EXPORT_DIR or var/exports)")
    build.add_argument("--public-url", help="public root where the mirror will be served (for the DCAT catalogue)")
    build.add_argument("--copy", action="store_true", help="copy data files instead of hard-linking them")
    rollups = sub.add_parser("rollups", help="rebuild the monthly and yearly files whose days changed")
    rollups.add_argument("dataset", nargs="?", default="all", help="dataset id, or 'all' (default)")
    rollups.add_argument("--exports", type=Path, help="open-data directory (default: $IOTORINO_EXPORT_DIR or var/exports)")


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; print one line per file written."""
    from dataclasses import replace

    from iotorino.core.errors import ConfigError
    from iotorino.export import refresh_rollups, registry
    from iotorino.export import settings as export_settings

    exports = args.exports or export_settings.export_dir_from_env()
    if args.action == "rollups":
        names = list(registry()) if args.dataset == "all" else [args.dataset]
        unknown = [n for n in names if n not in registry()]
        if unknown:
            raise ConfigError("dataset", f"unknown dataset {unknown[0]!r}", ", ".join(registry()))
        for name in names:
            for path in refresh_rollups(exports, name):
                print(path)
        return 0
    from iotorino.web import mirror
    from iotorino.web import settings as web_settings

    settings = replace(web_settings.from_env(with_store=False), exports_dir=exports)
    if args.public_url:
        settings = replace(settings, base_url=args.public_url)
    written = mirror.build(settings, args.out, link=not args.copy)
    print(f"{len(written)} files in {args.out}", file=sys.stderr)
    return 0
