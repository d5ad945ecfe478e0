"""`iotorino stack up --secure`: the production configuration as local processes, no containers.

Provisioning's output is rendered once more for the `local` target (files in
the provisioned directory, loopback addresses, free ports from the settings
file) and run: Mosquitto (TLS, password and ACL files, persistence), influxd
(authentication, retention policies, users and grants set up at start) and
the collector replicas sharing one MQTT v5 subscription, the beacon monitor
and its fleet-health feed, the city and school alert services, the web
application over HTTPS (certificate from the stack's CA), Prometheus (when
installed) scraping them all with the alert rules, and with `[airflow] enabled`
Airflow's scheduler and dag-processor (LocalExecutor, SQLite metadata) writing
the exports the web application publishes. Every service has its own broker
and InfluxDB user; passwords reach the processes through their environment,
read from the 0600 secret files, never through a command line. The processes outlive the command; their ids are kept
in `<output>/state/stack.json` for `status` and `down`, and their output in
`<output>/state/logs/`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

from iotorino.core import paths
from iotorino.provision import influx, render
from iotorino.provision.principals import ALERT_SCOPES
from iotorino.provision.provision import influx_users, provision
from iotorino.provision.secrets import SecretStore
from iotorino.provision.settings import StackSettings
from iotorino.services import INFLUXD_BIN, MOSQUITTO_BIN, ConfiguredServer, ServiceError, port_open

log = logging.getLogger(__name__)
PROMETHEUS_BIN = shutil.which("prometheus")


@dataclass(frozen=True)
class Member:
    """A running process of the stack: name, process id, port it answers on, its log."""

    name: str
    pid: int
    port: int
    log: str


class SecureStack:
    """The stack of one provisioned directory, run locally."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.target = render.local(settings)
        self.run_dir = settings.output / "run"
        self.state = settings.output / "state"
        self.record = self.state / "stack.json"

    @property
    def influx_url(self) -> str:
        """The local InfluxDB's base URL."""
        return self.target.influx_url

    def up(self) -> list[Member]:
        """Provision (keeping existing secrets), write the local configs, start every process and wait
        until each is ready; raises `ServiceError` naming the process and its log otherwise."""
        if self.running():
            raise ServiceError(f"the stack of {self.settings.output} is already running; `iotorino stack down` first")
        provisioned = provision(self.settings)
        for sub in ("mosquitto", "influxdb", "logs", "monitor", "exports"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.state, 0o700)
        started: list[tuple[str, ConfiguredServer]] = []
        try:
            mosquitto_conf = render.write(self.run_dir / "mosquitto.conf",
                                          render.mosquitto_conf(self.settings, self.target))
            self._start("mosquitto", [MOSQUITTO_BIN, "-c", str(mosquitto_conf)], self.settings.broker_port,
                                 lambda: port_open(self.settings.broker_port), started)
            self._start_influx(started)
            admin, users = influx_users(self.settings.output / "secrets")
            influx.set_up(self.influx_url, self.settings, admin, users)
            secrets = provisioned.secrets
            # The project's own processes start side by side: each spends most of its start-up importing.
            _together([lambda r=replica: self._start_collector(r, secrets, started)
                       for replica in range(self.settings.collectors)] + self._services(secrets, started))
            if PROMETHEUS_BIN:
                self._start_prometheus(started)
            if self.settings.airflow:
                self._start_airflow(secrets, started)
        except BaseException:
            for _, server in reversed(started):
                server.stop()
            raise
        members = [Member(name, server.pid, server.port, str(self.state / "logs" / f"{name}.log"))
                   for name, server in started]
        self.record.write_text(json.dumps([m.__dict__ for m in members], indent=1))
        return members

    @contextlib.contextmanager
    def influx_only(self):
        """influxd alone with the stack's local config, stopped on leaving (for restores)."""
        started: list = []
        (self.state / "logs").mkdir(parents=True, exist_ok=True)
        try:
            yield self._start_influx(started)
        finally:
            for _, server in started:
                server.stop()

    def _start_influx(self, started: list) -> ConfiguredServer:
        config = render.write(self.run_dir / "influxdb.conf", render.influxdb_conf(self.settings, self.target))
        return self._start("influxd", [INFLUXD_BIN, "-config", str(config)], self.settings.influx_port,
                           self._influx_ready, started)

    def _start(self, name: str, argv: list[str], port: int, ready, started: list, env=None,
               timeout_s: float = 60.0) -> ConfiguredServer:
        if port and port_open(port):
            # Otherwise the readiness check could pass on someone else's server.
            raise ServiceError(f"{name}: port {port} is already in use; choose another in the stack settings")
        server = ConfiguredServer(name, argv, self.state / "logs" / f"{name}.log", port, ready, env=env,
                                  startup_timeout_s=timeout_s)
        started.append((name, server))  # before it is ready: a start that times out is stopped with the rest
        server.start()
        return server

    def _influx_ready(self) -> bool:
        try:
            return requests.get(f"{self.influx_url}/ping", timeout=0.5).status_code == 204
        except requests.RequestException:
            return False

    def _start_iotorino(self, name: str, args: list[str], port: int, ready, started: list,
                        passwords: dict[str, str]) -> None:
        """`python -m iotorino ARGS` with `passwords` (environment variable -> secret) in its environment."""
        env = dict(os.environ, **passwords)
        env["PYTHONPATH"] = str(paths.ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        # Generous: on a busy machine importing the web or Airflow packages alone takes tens of seconds.
        self._start(name, [sys.executable, "-m", "iotorino", *args], port, ready, started, env, timeout_s=180.0)

    def _start_collector(self, replica: int, secrets: SecretStore, started: list) -> None:
        config = render.write(self.run_dir / f"collector-{replica + 1}.toml",
                              render.collector_toml(self.settings, self.target, replica))
        port = self.settings.metrics_ports[replica]
        self._start_iotorino(f"collector-{replica + 1}", ["collect", "mqtt", "--config", str(config)], port,
                             lambda: _ready(port), started,
                             {render.MQTT_PASSWORD_ENV: secrets.service("mqtt-collector"),
                              render.INFLUX_PASSWORD_ENV: secrets.service("influx-collector")})

    def _services(self, secrets: SecretStore, started: list) -> list:
        """Starters of the beacon monitor and its feed, the two alert services and the web application
        (HTTPS), each with its own broker user (and InfluxDB reader where it reads the store)."""
        settings, target = self.settings, self.target
        config = render.write(self.run_dir / "monitor.toml", render.monitor_toml(settings, target))
        starters = [lambda: self._start_iotorino(
            "monitor", ["beacons", "serve", "--config", str(config)], settings.monitor_api_port,
            lambda: _ready(settings.monitor_api_port), started,
            {render.MQTT_PASSWORD_ENV: secrets.service("mqtt-monitor"),
             render.INFLUX_PASSWORD_ENV: secrets.service("influx-monitor")})]
        for scope, port in zip(ALERT_SCOPES, settings.alerts_ports):
            render.write(self.run_dir / f"alerts-{scope}.toml", render.alerts_toml(settings, target, scope))
            starters.append(lambda scope=scope, port=port: self._start_iotorino(
                f"alerts-{scope}", render.alerts_command(settings, target, scope, self.run_dir), port,
                lambda: _ready(port, "/healthz"), started,
                {render.MQTT_PASSWORD_ENV: secrets.service(f"mqtt-alerts-{scope}")}))
        render.write(self.run_dir / "web.toml", render.web_toml(settings, target))
        env = render.web_environment(settings, target)
        env.update({render.MQTT_PASSWORD_ENV: secrets.service("mqtt-web"),
                    render.INFLUX_PASSWORD_ENV: secrets.service("influx-web")})
        starters.append(lambda: self._start_iotorino(
            "web", render.web_command(settings, target, self.run_dir), settings.web_port,
            lambda: _ready(settings.web_port, "/readyz", self.ca), started, env))
        return starters

    @property
    def ca(self) -> Path:
        """The stack's CA certificate (clients of the broker and of the web application trust it)."""
        return self.settings.output / "tls" / "ca.pem"

    def _start_prometheus(self, started: list) -> None:
        config = render.write(self.run_dir / "prometheus" / "prometheus.yml",
                              render.prometheus_yml(self.settings, self.target))
        render.write(self.run_dir / "prometheus" / "rules.yml", render.prometheus_rules(self.settings))
        port = self.settings.prometheus_port
        self._start("prometheus", [PROMETHEUS_BIN, f"--config.file={config}",
                                   f"--storage.tsdb.path={self.state / 'prometheus'}",
                                   f"--web.listen-address=127.0.0.1:{port}"],
                    port, lambda: _ready(port, "/-/ready"), started)

    def _start_airflow(self, secrets: SecretStore, started: list) -> None:
        """Airflow's scheduler (LocalExecutor) and dag-processor on a SQLite metadata database, with the
        `iotorino_influx` connections (reader for exports, writer for the downsampler) from the secrets."""
        home = self.state / "airflow"
        home.mkdir(parents=True, exist_ok=True)
        influx = f"127.0.0.1:{self.settings.influx_port}/{self.settings.database}"
        env = dict(os.environ, AIRFLOW_HOME=str(home), IOTORINO_EXPORT_DIR=render.exports_dir(self.target), AIRFLOW__CORE__DAGS_FOLDER=str(paths.DAGS),
                   AIRFLOW__CORE__LOAD_EXAMPLES="False", AIRFLOW__CORE__EXECUTOR="LocalExecutor",
                   AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
                   AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK="True",
                   AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST="127.0.0.1",
                   AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT=str(self.settings.airflow_health_port),
                   AIRFLOW_CONN_IOTORINO_INFLUX=f"http://exports:{secrets.service('influx-exports')}@{influx}",
                   AIRFLOW_CONN_IOTORINO_INFLUX_WRITER=(
                       f"http://downsampler:{secrets.service('influx-downsampler')}@{influx}"),
                   PYTHONPATH=str(paths.ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
                   PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
        airflow = str(Path(sys.executable).parent / "airflow")
        with open(self.state / "logs" / "airflow-migrate.log", "wb") as log_file:
            if subprocess.run([airflow, "db", "migrate"], env=env, stdout=log_file, stderr=subprocess.STDOUT).returncode:
                raise ServiceError(f"airflow db migrate failed (log: {log_file.name})")
        port = self.settings.airflow_health_port
        self._start("airflow-scheduler", [airflow, "scheduler"], port, lambda: _ready(port, "/health"), started, env,
                    timeout_s=180.0)
        self._start("airflow-dag-processor", [airflow, "dag-processor"], 0, lambda: True, started, env)

    def members(self) -> list[Member]:
        """The processes recorded by the last `up` (empty when none)."""
        if not self.record.exists():
            return []
        return [Member(**m) for m in json.loads(self.record.read_text())]

    def running(self) -> bool:
        """Whether any recorded process of this stack is still alive."""
        return any(_ours(m, self.settings.output) for m in self.members())

    def status(self) -> list[dict]:
        """One row per process: name, pid, alive, and ready (its port answers; /readyz for collectors)."""
        rows = []
        for member in self.members():
            alive = _ours(member, self.settings.output)
            probe = {"prometheus": "/-/ready", "airflow-scheduler": "/health"}.get(
                member.name, "/healthz" if member.name.startswith("alerts") else "/readyz")
            if not member.port:
                ready = alive
            elif member.name in ("mosquitto", "influxd"):
                ready = alive and port_open(member.port)
            else:
                ready = alive and _ready(member.port, probe, self.ca if member.name == "web" else None)
            rows.append({"name": member.name, "pid": member.pid, "port": member.port, "alive": alive, "ready": ready})
        return rows

    def reload_broker(self) -> bool:
        """SIGHUP to the broker: it rereads the password and ACL files (after a rotation)."""
        for member in self.members():
            if member.name == "mosquitto" and _ours(member, self.settings.output):
                os.kill(member.pid, signal.SIGHUP)
                return True
        return False

    def down(self, timeout_s: float = 20.0) -> None:
        """Stop every recorded process that is still ours, collectors first, broker and store last."""
        for member in reversed(self.members()):
            if not _ours(member, self.settings.output):
                continue
            os.killpg(member.pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while _alive(member.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(member.pid):
                os.killpg(member.pid, signal.SIGKILL)
        self.record.unlink(missing_ok=True)


def _together(starters: list) -> None:
    """Run the starters in parallel threads and wait for all; then raise the first failure, if any (what did
    start is in the caller's `started` list, which it stops)."""
    with ThreadPoolExecutor(max_workers=len(starters)) as pool:
        futures = [pool.submit(start) for start in starters]
    for future in futures:
        future.result()


def _ready(port: int, path: str = "/readyz", ca: Path | None = None) -> bool:
    """Whether 127.0.0.1:`port` answers `path` with 200 (over HTTPS checked against `ca` when given)."""
    url = f"https://127.0.0.1:{port}{path}" if ca else f"http://127.0.0.1:{port}{path}"
    try:
        return requests.get(url, timeout=2, verify=str(ca) if ca else True).status_code == 200
    except requests.RequestException:
        return False


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _ours(member: Member, output: Path) -> bool:
    """The recorded pid is alive and still runs a config of this stack (not a reused pid): its command
    line or (Airflow's, through AIRFLOW_HOME) its environment names the stack's directory."""
    if not _alive(member.pid):
        return False
    try:
        proc = Path(f"/proc/{member.pid}")
        found = (proc / "cmdline").read_bytes() + (proc / "environ").read_bytes()
    except OSError:
        return False
    return str(output).encode() in found
