"""Generated passwords: created once, kept in 0600 files under `<output>/secrets/`, never in config or logs.

- `devices.csv` (user,password): every device's and gateway's broker password, for the installer
  who flashes them; rotation rewrites one line.
- `mqtt-<service>` and `influx-<user>`: one file per service secret, mounted as a Docker secret in
  the compose file and read into the service's environment by `iotorino stack`.

Re-running provisioning keeps every existing secret and adds only what is missing.
The broker's password file holds salted hashes made by Debian's `mosquitto_passwd`.
"""

from __future__ import annotations

import csv
import io
import os
import secrets as random
import subprocess
from pathlib import Path

from iotorino.core.errors import IotorinoError
from iotorino.services import MOSQUITTO_PASSWD_BIN

DEVICES_FILE = "devices.csv"


class SecretError(IotorinoError):
    """A secret could not be generated, stored or hashed (the message never contains the secret)."""


def new_password() -> str:
    """A random password: 32 URL-safe characters (192 bits)."""
    return random.token_urlsafe(24)


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` created 0600 (in a 0700 directory): nobody but the owner reads it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


class SecretStore:
    """The secrets directory of one provisioned deployment."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def service(self, name: str) -> str:
        """The secret in file `name` (e.g. "mqtt-collector"), created on first use."""
        path = self.directory / name
        if not path.exists():
            write_private(path, new_password())
        return path.read_text().strip()

    def derived(self, name: str, value: str) -> None:
        """A secret made of others (a URL with a password in it), rewritten when they change."""
        path = self.directory / name
        if not path.exists() or path.read_text() != value:
            write_private(path, value)

    def file(self, name: str) -> Path:
        """Path of the file holding secret `name` (for *_file keys and Docker secrets)."""
        return self.directory / name

    def devices(self, names: list[str]) -> dict[str, str]:
        """Each device's password, generating those not yet in devices.csv; the file keeps every earlier one."""
        known = self._read_devices()
        missing = [name for name in names if name not in known]
        if missing:
            known.update({name: new_password() for name in missing})
            self._write_devices(known)
        return {name: known[name] for name in names}

    def rotate_device(self, name: str) -> str:
        """A new password for one device; the others are left as they were."""
        known = self._read_devices()
        if name not in known:
            raise SecretError(f"no device {name!r} in {self.directory / DEVICES_FILE}; provision it first")
        known[name] = new_password()
        self._write_devices(known)
        return known[name]

    def _read_devices(self) -> dict[str, str]:
        path = self.directory / DEVICES_FILE
        if not path.exists():
            return {}
        return {row["user"]: row["password"] for row in csv.DictReader(io.StringIO(path.read_text()))}

    def _write_devices(self, known: dict[str, str]) -> None:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["user", "password"])
        writer.writerows(sorted(known.items()))
        write_private(self.directory / DEVICES_FILE, out.getvalue())


def write_password_file(path: Path, users: dict[str, str]) -> None:
    """The broker's password_file: `user:hash` lines hashed by `mosquitto_passwd -U` (the clear text
    exists only in a 0600 file that is hashed in place before anything reads it)."""
    write_private(path, "".join(f"{name}:{password}\n" for name, password in sorted(users.items())))
    _passwd(["-U", str(path)], path)


def set_password(path: Path, user: str, password: str) -> None:
    """Replace one user's hash in the password file; every other line stays as it was. The clear
    text is hashed in a 0600 file of its own (never on a command line, where /proc would show it)."""
    single = path.with_name(path.name + ".one")
    try:
        write_private(single, f"{user}:{password}\n")
        _passwd(["-U", str(single)], single)
        hashed = single.read_text()
    finally:
        single.unlink(missing_ok=True)
    lines = [line for line in path.read_text().splitlines(keepends=True) if line.split(":", 1)[0] != user]
    write_private(path, "".join(lines) + hashed)


def _passwd(args: list[str], path: Path) -> None:
    result = subprocess.run([MOSQUITTO_PASSWD_BIN, *args], capture_output=True, text=True)
    if result.returncode != 0:
        # mosquitto_passwd's messages name the file, never the password.
        raise SecretError(f"mosquitto_passwd failed on {path}: {result.stderr.strip() or result.stdout.strip()}")
