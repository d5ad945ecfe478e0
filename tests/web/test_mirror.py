"""The static mirror holds the same tree as the app: pages in both languages, twins, data, provenance, catalogue."""

from __future__ import annotations

import hashlib
import json
import subprocess

from starlette.testclient import TestClient

from iotorino.export import read_manifest
from tests.export.published import DATASET
from tests.web.conftest import DAYS


def test_opendata_build_writes_what_the_app_serves(published, app, tmp_path, python, cli_env):
    out = tmp_path / "mirror"
    done = subprocess.run(
        [python, "-m", "iotorino", "opendata", "build", "--out", str(out), "--exports", str(published),
         "--public-url", "https://dati.example.it"],
        env=cli_env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    client = TestClient(app)
    for url, file in [("/dati", "dati/index.html"), ("/en/dati", "en/dati/index.html"),
                      (f"/dati/{DATASET}", f"dati/{DATASET}/index.html"), ("/", "index.html"), ("/scuole", "scuole/index.html")]:
        assert (out / file).read_text() == client.get(url + "?lang=it" if not url.startswith("/en") else url).text, file
    assert json.loads((out / f"dati/{DATASET}.json").read_text()) == client.get(f"/dati/{DATASET}.json").json()
    # Every data file, byte for byte, at the URL the app uses; checksums as in the manifest.
    manifest = read_manifest(published, DATASET)
    for entry in manifest["files"].values():
        mirrored = out / "dati" / DATASET / f"{entry['period']}.{entry['format']}"
        assert hashlib.sha256(mirrored.read_bytes()).hexdigest() == entry["sha256"]
    assert len(manifest["files"]) == 2 * (len(DAYS) + 2 + 1)
    assert json.loads((out / f"dati/{DATASET}/manifest.json").read_text()) == manifest
    assert "dcat:Catalog" in (out / "dati/catalogo.ttl").read_text()
    assert (out / "static/vendor/leaflet/leaflet.js").is_file() and (out / "static/app.css").is_file()


def test_opendata_rollups_command(published, tmp_path, python, cli_env):
    done = subprocess.run([python, "-m", "iotorino", "opendata", "rollups", "no_such", "--exports", str(published)],
                          env=cli_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "unknown dataset 'no_such'" in done.stderr
    done = subprocess.run([python, "-m", "iotorino", "opendata", "rollups", "--exports", str(published)],
                          env=cli_env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout == ""  # everything is current
