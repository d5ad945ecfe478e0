"""A throw-away certificate authority and a server certificate for 127.0.0.1, for TLS tests."""

from __future__ import annotations

from pathlib import Path

from iotorino.provision import pki


def make_certificates(directory: Path) -> dict[str, Path]:
    """Write ca.pem, server.pem and server.key (server valid for 127.0.0.1 and localhost); return their paths."""
    authority = pki.Authority.create("IoTorino test CA", days=1)
    certificate, key = authority.issue("127.0.0.1", server_names=("127.0.0.1", "localhost"), days=1)
    paths = {"ca": directory / "ca.pem", "cert": directory / "server.pem", "key": directory / "server.key"}
    pki.write_pem(paths["ca"], authority.certificate)
    pki.write_pem(paths["cert"], certificate)
    pki.write_key(paths["key"], key, mode=0o644)  # mosquitto may drop privileges; a test key only
    return paths
