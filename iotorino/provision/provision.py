"""`iotorino provision`: the inventory and deploy/stack.toml into one directory of configuration.

Layout of the output directory (the compose file mounts it as /etc/iotorino):

    mosquitto/mosquitto.conf  passwords (hashes)  acl
    influxdb/influxdb.conf
    collector-1.toml, collector-2.toml, ...
    monitor.toml  alerts-city.toml  alerts-school.toml  web.toml   (the other services' configs)
    prometheus/prometheus.yml  rules.yml
    tls/ca.pem  server.pem  server.key  web.pem  web.key  [clients/<user>.pem .key]   ca.key stays in secrets/
    secrets/   devices.csv, mqtt-<service>, influx-<user>, ca.key   (0600 in a 0700 directory)
    principals.json   every user and its topics, no secrets (kept by backups)

Re-running keeps every secret and certificate and regenerates the rest.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from iotorino.core import inventory as fleet
from iotorino.provision import pki, render
from iotorino.provision.principals import ALERT_SCOPES, INFLUX_ADMIN, INFLUX_USERS, Principal, acl_file, all_principals
from iotorino.provision.secrets import SecretStore, set_password, write_password_file
from iotorino.provision.settings import StackSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Provisioned:
    """What provisioning produced: the settings, the principals and where the secrets are."""

    settings: StackSettings
    principals: tuple[Principal, ...]
    secrets: SecretStore

    @property
    def output(self) -> Path:
        """The provisioned directory."""
        return self.settings.output


def provision(settings: StackSettings, inventory: fleet.Inventory | None = None) -> Provisioned:
    """Generate (or bring up to date) the whole configuration in `settings.output`."""
    out = settings.output
    principals = all_principals(inventory or fleet.default(), settings)
    store = SecretStore(out / "secrets")
    passwords = store.devices([p.name for p in principals if p.kind != "service"])
    passwords.update({p.name: store.service(f"mqtt-{p.name}") for p in principals if p.kind == "service"})
    write_password_file(out / "mosquitto" / "passwords", passwords)
    render.write(out / "mosquitto" / "acl", acl_file(principals))
    for user in (INFLUX_ADMIN, *(name for name, _ in INFLUX_USERS)):
        store.service(f"influx-{user}")
    _airflow_secrets(settings, store)
    _certificates(settings, principals, store)
    target = render.COMPOSE
    render.write(out / "mosquitto" / "mosquitto.conf", render.mosquitto_conf(settings, target))
    render.write(out / "influxdb" / "influxdb.conf", render.influxdb_conf(settings, target))
    for replica in range(settings.collectors):
        render.write(out / f"collector-{replica + 1}.toml", render.collector_toml(settings, target, replica))
    render.write(out / "monitor.toml", render.monitor_toml(settings, target))
    for scope in ALERT_SCOPES:
        render.write(out / f"alerts-{scope}.toml", render.alerts_toml(settings, target, scope))
    render.write(out / "web.toml", render.web_toml(settings, target))
    render.write(out / "prometheus" / "prometheus.yml", render.prometheus_yml(settings, target))
    render.write(out / "prometheus" / "rules.yml", render.prometheus_rules(settings))
    render.write(out / "principals.json", json.dumps([asdict(p) for p in principals], indent=1))
    log.info("provisioned %d principals into %s (secrets in %s, mode 0600)", len(principals), out, store.directory)
    return Provisioned(settings, tuple(principals), store)


def _airflow_secrets(settings: StackSettings, store: SecretStore) -> None:
    """Airflow's metadata database URL, its API token key and its InfluxDB connections (compose stack)."""
    postgres = store.service("postgres-password")
    store.derived("airflow-database-url", f"postgresql+psycopg2://airflow:{postgres}@postgres:5432/airflow")
    store.service("airflow-jwt-secret")
    influx = f"influxdb:{settings.influx_port}/{settings.database}"
    store.derived("airflow-conn-iotorino-influx", f"http://exports:{store.service('influx-exports')}@{influx}")
    store.derived("airflow-conn-iotorino-influx-writer",
                  f"http://downsampler:{store.service('influx-downsampler')}@{influx}")


def _certificates(settings: StackSettings, principals: list[Principal], store: SecretStore) -> None:
    tls = settings.output / "tls"
    ca_key = store.file("ca.key")
    if (tls / "ca.pem").exists() and ca_key.exists():
        authority = pki.Authority.load(tls / "ca.pem", ca_key)
    else:
        authority = pki.Authority.create()
        authority.write(tls / "ca.pem", ca_key)
        for stale in ("server.pem", "web.pem"):  # signed by a CA whose key is gone
            (tls / stale).unlink(missing_ok=True)
    # The broker's certificate and the web application's (HTTPS), each valid for its host names.
    for name, common_name, hosts in (("server", "mosquitto", settings.broker_hosts), ("web", "web", settings.web_hosts)):
        if not (tls / f"{name}.pem").exists():
            certificate, key = authority.issue(common_name, server_names=hosts)
            pki.write_pem(tls / f"{name}.pem", certificate)
            pki.write_key(tls / f"{name}.key", key)
    if settings.client_certificates:
        for principal in principals:
            if not (tls / "clients" / f"{principal.name}.pem").exists():
                issue_client(settings.output, authority, principal.name)


def issue_client(output: Path, authority: pki.Authority, user: str) -> tuple[Path, Path]:
    """A client certificate whose common name is `user`, written to tls/clients/<user>.pem and .key (0600)."""
    certificate, key = authority.issue(user)
    paths = (output / "tls" / "clients" / f"{user}.pem", output / "tls" / "clients" / f"{user}.key")
    pki.write_pem(paths[0], certificate)
    pki.write_key(paths[1], key)
    return paths


def rotate(settings: StackSettings, user: str) -> None:
    """A new password for one device or gateway: devices.csv and the password file change on that
    line only (the broker rereads the file on SIGHUP; `iotorino stack` sends it)."""
    store = SecretStore(settings.output / "secrets")
    password = store.rotate_device(user)
    set_password(settings.output / "mosquitto" / "passwords", user, password)
    log.info("new password for %s in %s", user, store.file("devices.csv"))


def influx_users(secrets_dir: Path) -> tuple[tuple[str, str], dict[str, tuple[str, str]]]:
    """(admin name, password) and {user: (password, privilege)} from the secrets in `secrets_dir`."""
    store = SecretStore(secrets_dir)
    admin = (INFLUX_ADMIN, store.service(f"influx-{INFLUX_ADMIN}"))
    return admin, {user: (store.service(f"influx-{user}"), privilege) for user, privilege in INFLUX_USERS}
