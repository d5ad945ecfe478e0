"""`iotorino web`: serve the web application (open data, schools, city) with uvicorn.

Settings come from the environment (`IOTORINO_EXPORT_DIR`, `IOTORINO_PUBLIC_URL`,
`IOTORINO_INFLUX_*`, see iotorino/web/settings.py), overridable here; `--config FILE`
adds the web settings file (`[mqtt]` for the live alert board, `[alert_board]`;
sample: iotorino/web/sample.toml). With `--ssl-certfile` and `--ssl-keyfile` it
serves HTTPS (the secure stack's does). Binds to 127.0.0.1 by default: put a reverse
proxy in front to publish it.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `iotorino web`."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    parser.add_argument("--exports", type=Path, help="open-data directory (default: $IOTORINO_EXPORT_DIR or var/exports)")
    parser.add_argument("--config", type=Path, help="web settings file: [mqtt] (the alert board's broker: TLS, user, "
                                                     "password_env or password_file) and [alert_board]")
    parser.add_argument("--public-url", help="public root of the site, for the DCAT catalogue (default: $IOTORINO_PUBLIC_URL)")
    parser.add_argument("--ssl-certfile", type=Path, help="serve HTTPS with this PEM certificate (chain)")
    parser.add_argument("--ssl-keyfile", type=Path, help="the certificate's private key (PEM)")


def run(args: argparse.Namespace) -> int:
    """Build the app from the settings and serve it until interrupted."""
    from dataclasses import replace

    import uvicorn

    from iotorino.web import create_app
    from iotorino.web import settings as web_settings

    settings = web_settings.load(args.config) if args.config else web_settings.from_env()
    if args.exports:
        settings = replace(settings, exports_dir=args.exports)
    if args.public_url:
        settings = replace(settings, base_url=args.public_url)
    if bool(args.ssl_certfile) != bool(args.ssl_keyfile):
        from iotorino.core.errors import ConfigError

        raise ConfigError("--ssl-keyfile" if args.ssl_certfile else "--ssl-certfile", "given without the other",
                          "both --ssl-certfile and --ssl-keyfile, or neither")
    tls = {"ssl_certfile": str(args.ssl_certfile), "ssl_keyfile": str(args.ssl_keyfile)} if args.ssl_certfile else {}
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info", server_header=False, **tls)
    return 0
