"""Local Mosquitto and InfluxDB processes on loopback, with their state in a directory of ours.

Used by the demo (state under var/demo) and by the test fixtures (state in a
temporary directory). Each server gets a config file written here, binds to
127.0.0.1 only, and is stopped with its process group.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from iotorino.core.errors import IotorinoError

MOSQUITTO_BIN = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD_BIN = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
INFLUXD_BIN = shutil.which("influxd") or "/usr/bin/influxd"


class ServiceError(IotorinoError):
    """A local server could not be started or did not become ready."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class _Process:
    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] | None = field(default=None, repr=False)  # None: ours; else the whole environment
    proc: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                self.argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=self.env
            )
        finally:
            log.close()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        """Stop the process (SIGTERM, then SIGKILL after `timeout` seconds)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    @property
    def pid(self) -> int | None:
        """Process id (also the process group id), None before start."""
        return self.proc.pid if self.proc else None

    def check_alive(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
            raise ServiceError(f"{self.name} exited during start-up; its log ends with:\n{tail}")


def _wait(ready, process: _Process, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process.check_alive()
        if ready():
            return
        time.sleep(0.05)
    raise ServiceError(f"{what} not ready after {timeout:.0f} s (log: {process.log_path})")


class _Server:
    """A server process of ours: start it, wait until it is ready, stop it."""

    _process: _Process
    port: int
    startup_timeout_s = 30.0

    def start(self):
        """Start the server and wait until it is ready; returns the server."""
        self._process.start()
        _wait(self._ready, self._process, f"{self._process.name} on port {self.port}", self.startup_timeout_s)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop the server (SIGTERM lets mosquitto save its persistence file first)."""
        self._process.stop(sig)

    @property
    def pid(self) -> int | None:
        """Process id of the server (also its process group id)."""
        return self._process.pid

    def _ready(self) -> bool:
        raise NotImplementedError


class ConfiguredServer(_Server):
    """A server run from a command line and config written elsewhere (e.g. by `iotorino provision`),
    ready once `ready()` returns True; its output goes to `log_path`."""

    def __init__(self, name: str, argv: list[str], log_path: Path, port: int, ready,
                 *, env: dict[str, str] | None = None, startup_timeout_s: float = 60.0) -> None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        self._process = _Process(name, argv, Path(log_path), env)
        self.port = port
        self._ready_check = ready
        self.startup_timeout_s = startup_timeout_s

    def _ready(self) -> bool:
        return self._ready_check()


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:`port`."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Mosquitto(_Server):
    """A mosquitto broker on 127.0.0.1:`port`, persistence in `state_dir`."""

    def __init__(
        self,
        state_dir: Path,
        port: int | None = None,
        *,
        max_queued: int = 0,
        tls: tuple[Path, Path] | None = None,
        users: dict[str, str] | None = None,
    ) -> None:
        """`tls`: (certificate, key) files for a TLS listener; `users`: name -> password, no anonymous access."""
        self.state_dir = Path(state_dir)
        self.port = port or free_port()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        access = "allow_anonymous true\n"
        if users:
            password_file = self.state_dir / "passwords"
            password_file.write_text("".join(f"{name}:{secret}\n" for name, secret in users.items()))
            password_file.chmod(0o600)
            # Replaces the clear-text passwords by salted hashes, in place.
            subprocess.run([MOSQUITTO_PASSWD_BIN, "-U", str(password_file)], check=True)
            access = f"allow_anonymous false\npassword_file {password_file}\n"
        listener = f"listener {self.port} 127.0.0.1\n"
        if tls:
            listener += f"certfile {tls[0]}\nkeyfile {tls[1]}\n"
        conf = self.state_dir / "mosquitto.conf"
        conf.write_text(
            "# written by iotorino.services\n"
            # Stay the user who started us: the state directory is ours (as root,
            # mosquitto would otherwise switch to the `mosquitto` user and lose access).
            f"user {getpass.getuser()}\n"
            + listener
            + access
            + "persistence true\n"
            f"persistence_location {self.state_dir}/\n"
            "autosave_interval 1\n"
            # 0: no limit on messages queued for a persistent session (a collector
            # that is down must find its whole backlog when it comes back).
            f"max_queued_messages {max_queued}\n"
            "max_inflight_messages 1000\n"
            "log_type error\nlog_type warning\nlog_type notice\n"
            "log_dest stdout\n"
        )
        self._process = _Process("mosquitto", [MOSQUITTO_BIN, "-c", str(conf)], self.state_dir / "mosquitto.log")

    def _ready(self) -> bool:
        return port_open(self.port)


class Influxd(_Server):
    """An InfluxDB 1.x server on 127.0.0.1:`port`, data in `state_dir`."""

    startup_timeout_s = 60.0

    def __init__(self, state_dir: Path, port: int | None = None) -> None:
        self.state_dir = Path(state_dir)
        self.port = port or free_port()
        rpc_port = free_port()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        conf = self.state_dir / "influxdb.conf"
        conf.write_text(
            "# written by iotorino.services\n"
            "reporting-disabled = true\n"
            f'bind-address = "127.0.0.1:{rpc_port}"\n'
            f'[meta]\n  dir = "{self.state_dir}/meta"\n'
            f'[data]\n  dir = "{self.state_dir}/data"\n  wal-dir = "{self.state_dir}/wal"\n'
            '  query-log-enabled = false\n  index-version = "tsi1"\n'
            "[monitor]\n  store-enabled = false\n"
            f'[http]\n  bind-address = "127.0.0.1:{self.port}"\n  log-enabled = false\n'
            "  max-body-size = 0\n"
            "[logging]\n  level = \"warn\"\n"
        )
        self._process = _Process("influxd", [INFLUXD_BIN, "-config", str(conf)], self.state_dir / "influxd.log")

    @property
    def url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    def _ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/ping", timeout=0.5).status_code == 204
        except requests.RequestException:
            return False
