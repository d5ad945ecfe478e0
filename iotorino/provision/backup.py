"""`iotorino backup` / `iotorino restore`: everything the stack cannot rebuild, in one directory.

A backup directory holds:

    influxdb/        `influxd backup -portable` of every database (taken over the loopback RPC port)
    state/           the collectors' dead letters and spools, the broker's persistence file (retained
                     beacon statuses, queued sessions), the beacon monitor's status spool: SQLite files
                     copied with SQLite's online backup, so a running service is no problem
    exports/         the exports' manifests and catalogue files (the Parquet and CSV data are rebuilt
                     by re-running the exports from InfluxDB)
    provisioned/     the generated configuration: ACL, hashed password file, certificates, configs,
                     principals.json; never secrets/ nor private keys (the installer keeps those)
    MANIFEST.json    every file with its size and SHA-256, checked before a restore

`restore` goes into empty servers: the stack must be down and its InfluxDB data directory empty.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
import time
from pathlib import Path

from iotorino.core.errors import IotorinoError
from iotorino.provision.stack import SecureStack
from iotorino.services import INFLUXD_BIN

DATA_SUFFIXES = (".parquet", ".csv", ".gz")  # export data, rebuilt from InfluxDB


class BackupError(IotorinoError):
    """A backup or restore could not be completed; the message names the step and the file."""


def backup(stack: SecureStack, destination: Path, *, exports: Path | None = None,
           monitor_spool: Path | None = None) -> Path:
    """Write a complete backup of `stack` into a new directory under `destination`; return it."""
    target = Path(destination) / f"iotorino-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}"
    if target.exists():
        raise BackupError(f"{target} already exists")
    target.mkdir(parents=True, mode=0o700)
    _run([INFLUXD_BIN, "backup", "-portable", "-host", f"127.0.0.1:{stack.settings.influx_rpc_port}",
          str(target / "influxdb")], "influxd backup")
    for source in _state_files(stack):
        _copy_state(source, target / "state" / source.relative_to(stack.state))
    if monitor_spool and Path(monitor_spool).exists():
        _copy_state(Path(monitor_spool), target / "state" / "monitor" / Path(monitor_spool).name)
    if exports and Path(exports).is_dir():
        for source in Path(exports).rglob("*"):
            if source.is_file() and not source.name.endswith(DATA_SUFFIXES):
                _copy(source, target / "exports" / source.relative_to(exports))
    output = stack.settings.output
    for source in output.rglob("*"):
        relative = source.relative_to(output)
        if source.is_file() and relative.parts[0] not in ("secrets", "state", "run") and source.suffix != ".key":
            _copy(source, target / "provisioned" / relative)
    files = {str(p.relative_to(target)): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
             for p in sorted(target.rglob("*")) if p.is_file()}
    (target / "MANIFEST.json").write_text(json.dumps(
        {"created": dt.datetime.now(dt.timezone.utc).isoformat(), "database": stack.settings.database,
         "files": files}, indent=1))
    return target


def restore(stack: SecureStack, source: Path, *, monitor_spool: Path | None = None) -> None:
    """Restore backup `source` into the stack's empty servers and state (the stack must be down), the
    monitor's status spool into the stack's state (or to `monitor_spool`, for a monitor run elsewhere). Missing provisioned files come back from the
    backup; secrets are the installer's (provisioning makes new ones where none are in place)."""
    source = Path(source)
    verify(source)
    if stack.running():
        raise BackupError(f"the stack of {stack.settings.output} is running: `iotorino stack down` first")
    data = stack.state / "influxdb" / "data"
    if data.exists() and any(data.iterdir()):
        raise BackupError(f"{data} is not empty: restore goes into an empty InfluxDB")
    for file in (source / "provisioned").rglob("*"):
        destination = stack.settings.output / file.relative_to(source / "provisioned")
        if file.is_file() and not destination.exists():
            _copy(file, destination)
    if (source / "state").is_dir():
        for file in (source / "state").rglob("*"):
            relative = file.relative_to(source / "state")
            if not file.is_file():
                continue
            if relative.parts[0] == "monitor" and monitor_spool:
                _copy(file, Path(monitor_spool))
            else:
                _copy(file, stack.state / relative)
    with stack.influx_only():
        _run([INFLUXD_BIN, "restore", "-portable", "-host", f"127.0.0.1:{stack.settings.influx_rpc_port}",
              str(source / "influxdb")], "influxd restore")
        # influxd imports the shards after the command returns: stopping it earlier loses them.
        _wait_for_shards(source / "influxdb", data)


def _shard_files(pairs) -> list[tuple[str, str, int]]:
    """(database, retention policy, bytes) of each TSM file, whatever the shard's id."""
    return sorted((parts[0], parts[1], size) for parts, size in pairs if parts[-1].endswith(".tsm"))


def _wait_for_shards(backup_dir: Path, data: Path, timeout_s: float = 120.0) -> None:
    expected = []
    for archive in backup_dir.glob("*.tar.gz"):
        with tarfile.open(archive) as tar:
            expected += _shard_files((Path(m.name).parts, m.size) for m in tar.getmembers())
    expected.sort()
    deadline = time.monotonic() + timeout_s
    while True:
        present = _shard_files((p.relative_to(data).parts, p.stat().st_size) for p in data.rglob("*.tsm"))
        if present == expected:
            return
        if time.monotonic() > deadline:
            raise BackupError(f"influxd restored {len(present)} of {len(expected)} data files into {data}")
        time.sleep(0.2)


def verify(source: Path) -> dict:
    """The backup's manifest, after checking every file's size and SHA-256; raises `BackupError` otherwise."""
    manifest_file = Path(source) / "MANIFEST.json"
    if not manifest_file.exists():
        raise BackupError(f"{source} has no MANIFEST.json: not an iotorino backup")
    manifest = json.loads(manifest_file.read_text())
    for name, expected in manifest["files"].items():
        path = Path(source) / name
        if not path.is_file() or _sha256(path) != expected["sha256"]:
            raise BackupError(f"{path} is missing or differs from MANIFEST.json: the backup is damaged")
    return manifest


def _state_files(stack: SecureStack) -> list[Path]:
    found = sorted(stack.state.glob("collector-*/*.sqlite"))
    found += sorted(stack.state.glob("mosquitto/*.db"))
    found += sorted(stack.state.glob("monitor/*.sqlite"))  # the beacon monitor's status spool
    return found


def _copy_state(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    if source.suffix == ".sqlite":
        # SQLite's online backup: a consistent copy even while the collector writes.
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(destination) as dst:
            src.backup(dst)
        src.close()
        dst.close()
    else:
        _copy(source, destination)


def _copy(source: Path, destination: Path) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, destination)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run(argv: list[str], step: str) -> None:
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{step} failed ({result.returncode}): {(result.stderr or result.stdout).strip()[-1000:]}")
