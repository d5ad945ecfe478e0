"""`iotorino backup` of a running secure stack, restored into a second stack's empty servers, compares equal."""

from __future__ import annotations

import sqlite3
import time

import pytest
import requests

from iotorino.core import inventory
from iotorino.provision import settings as stack_settings
from iotorino.provision.backup import BackupError, backup, restore, verify
from iotorino.provision.secrets import SecretStore
from iotorino.provision.stack import SecureStack
from tests.provision.clients import Session
from tests.provision.conftest import settings_file

pytestmark = pytest.mark.integration

UNIT = sorted(inventory.default().street_units)[0]
MEASUREMENT = inventory.default().profiles[inventory.default().street_units[UNIT].profile].measurements[0]
POINTS = 500
T0 = 1_790_000_000  # seconds, 2026-09-21
SAME = ('SELECT * FROM "hourly"."backup_probe"', f'SELECT * FROM "{MEASUREMENT}" WHERE "unit" = \'{UNIT}\'',
        "SHOW MEASUREMENTS", "SHOW RETENTION POLICIES", "SHOW SERIES")  # what the restore gives back


def _query(stack: SecureStack, q: str) -> list:
    admin = ("admin", SecretStore(stack.settings.output / "secrets").service("influx-admin"))
    body = requests.post(f"{stack.influx_url}/query", auth=admin, timeout=10,
                         data={"db": stack.settings.database, "q": q, "epoch": "ns"}).json()
    return body["results"][0].get("series", [])


def _rows(series: list) -> set:
    """The rows of a query's series, as a set of (series name, tags, row)."""
    return {(x.get("name"), repr(x.get("tags")), tuple(v)) for x in series for v in x.get("values", [])}


def _dead_letters(state) -> list[tuple]:
    rows = []
    for file in sorted(state.glob("collector-*/deadletters.sqlite")):
        with sqlite3.connect(file) as db:
            tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                rows += [(file.parent.name, table, *row) for row in db.execute(f'SELECT * FROM "{table}"')]
        db.close()
    return sorted(rows, key=repr)


def test_backup_restores_into_empty_servers(secure_stack, tmp_path):
    secrets = SecretStore(secure_stack.settings.output / "secrets")
    writer = ("downsampler", secrets.service("influx-downsampler"))
    lines = "\n".join(f"backup_probe,site=s{i % 7} value={i}.5,count={i}i {T0 + i}000000000" for i in range(POINTS))
    assert requests.post(f"{secure_stack.influx_url}/write", params={"db": secure_stack.settings.database, "rp": "hourly"},
                         data=lines, auth=writer, timeout=10).status_code == 204
    device = Session(secure_stack.settings.broker_port, secure_stack.settings.output / "tls" / "ca.pem",
                     UNIT, secrets.devices([UNIT])[UNIT])
    try:
        assert device.publish(f"iotorino/v1/street/{UNIT}/{MEASUREMENT}", b"not json {")
    finally:
        device.close()
    deadline = time.monotonic() + 30
    while not _dead_letters(secure_stack.state):
        assert time.monotonic() < deadline, "the poisoned message never became a dead letter"
        time.sleep(0.2)
    exports = tmp_path / "exports"
    (exports / "air_quality").mkdir(parents=True)
    (exports / "air_quality" / "manifest.json").write_text('{"dataset": "air_quality", "days": ["2026-09-21"]}')
    (exports / "air_quality" / "2026-09-21.parquet").write_bytes(b"PAR1 rebuilt by the exports PAR1")

    # The running stack goes on writing (the monitor's statuses): what the restore must give back lies
    # between what the store held just before the backup and just after it.
    before = {q: _query(secure_stack, q) for q in SAME}
    made = backup(secure_stack, tmp_path / "backups", exports=exports)
    after = {q: _query(secure_stack, q) for q in SAME}

    manifest = verify(made)
    names = set(manifest["files"])
    assert "exports/air_quality/manifest.json" in names and not any(n.endswith(".parquet") for n in names)
    assert any(n.startswith("influxdb/") for n in names)
    assert any(n.startswith("state/collector-") and n.endswith("deadletters.sqlite") for n in names)
    assert "state/monitor/status-spool.sqlite" in names  # the running monitor's outbox
    assert "provisioned/mosquitto/acl" in names and not any(n.endswith(".key") or "secrets" in n for n in names)
    secret_values = [p.read_text().strip() for p in (secure_stack.settings.output / "secrets").iterdir()
                     if p.name != "devices.csv"]
    blob = b"".join(p.read_bytes() for p in made.rglob("*") if p.is_file())
    assert not any(value.encode() in blob for value in secret_values)

    empty = SecureStack(stack_settings.load(settings_file(tmp_path / "second")))
    restore(empty, made)
    assert (empty.state / "monitor" / "status-spool.sqlite").is_file()  # restored before the monitor starts
    empty.up()
    try:
        for q in SAME:
            restored = _query(empty, q)
            if before[q] == after[q]:
                assert restored == before[q], q
            else:  # written meanwhile: the restore holds at least what was there before, at most what came after
                assert _rows(before[q]) <= _rows(restored) <= _rows(after[q]), q
        assert len(_query(empty, 'SELECT * FROM "hourly"."backup_probe"')[0]["values"]) == POINTS
        assert _dead_letters(empty.state) == _dead_letters(made / "state") != []
    finally:
        empty.down()


def test_a_damaged_backup_is_refused(secure_stack, tmp_path):
    made = backup(secure_stack, tmp_path)
    victim = next(p for p in (made / "influxdb").iterdir() if p.is_file())
    victim.write_bytes(victim.read_bytes() + b"x")
    with pytest.raises(BackupError, match="damaged"):
        verify(made)
