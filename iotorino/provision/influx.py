"""InfluxDB 1.x with authentication: the admin, the database, its retention policies, users and grants.

Run against a running influxd whose config has `auth-enabled = true`. The
first admin may be created without credentials (InfluxDB allows exactly that
one statement while no user exists); everything after runs as that admin.
Statements go in the body of a POST with HTTP basic auth, never in a query
string that an access log could keep. Re-running is safe: existing users get
their password set again, grants are re-issued.
"""

from __future__ import annotations

import requests

from iotorino.core.errors import IotorinoError
from iotorino.provision.settings import StackSettings


class InfluxSetupError(IotorinoError):
    """A provisioning statement failed; the message shows the statement with passwords masked."""


def _quote(password: str) -> str:
    return "'" + password.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Admin:
    """InfluxQL as the admin user over HTTP."""

    def __init__(self, url: str, user: str, password: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._auth = (user, password)
        self.timeout_s = timeout_s

    def run(self, statement: str, shown: str | None = None, *, auth: bool = True) -> list[dict]:
        """Execute one statement; `shown` is what error messages print instead (passwords masked)."""
        try:
            response = requests.post(f"{self.url}/query", data={"q": statement},
                                     auth=self._auth if auth else None, timeout=self.timeout_s)
        except requests.RequestException as error:
            raise InfluxSetupError(f"InfluxDB at {self.url} unreachable: {type(error).__name__}") from None
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        problem = body.get("error") or next((r.get("error") for r in body.get("results", []) if r.get("error")), None)
        if response.status_code >= 300 or problem:
            raise InfluxSetupError(f"{shown or statement!r} refused by InfluxDB ({response.status_code}): {problem}")
        return body.get("results", [])

    def users(self) -> set[str]:
        """Names of the existing users."""
        results = self.run("SHOW USERS")
        return {row[0] for series in results[0].get("series", []) for row in series.get("values", [])}


def set_up(url: str, settings: StackSettings, admin: tuple[str, str], users: dict[str, tuple[str, str]]) -> None:
    """Create (or bring up to date) the admin, the database, its retention policies and `users`
    (name -> (password, "READ" | "WRITE" | "ALL") on the database)."""
    name, secret = admin
    client = Admin(url, name, secret)
    try:
        existing = client.users()
    except InfluxSetupError:
        # No user yet: the one statement InfluxDB accepts without credentials.
        client.run(f"CREATE USER \"{name}\" WITH PASSWORD {_quote(secret)} WITH ALL PRIVILEGES",
                   f"CREATE USER {name} WITH PASSWORD *** WITH ALL PRIVILEGES", auth=False)
        existing = client.users()
    db = settings.database
    client.run(f'CREATE DATABASE "{db}"')
    for policy in settings.retention_policies:
        verb = "ALTER" if policy.name in _policies(client, db) else "CREATE"
        client.run(f'{verb} RETENTION POLICY "{policy.name}" ON "{db}" DURATION {policy.duration} REPLICATION 1'
                   + (" DEFAULT" if policy.default else ""))
    for user, (password, privilege) in users.items():
        if user in existing:
            client.run(f'SET PASSWORD FOR "{user}" = {_quote(password)}', f"SET PASSWORD FOR {user} = ***")
        else:
            client.run(f'CREATE USER "{user}" WITH PASSWORD {_quote(password)}', f"CREATE USER {user} WITH PASSWORD ***")
        client.run(f'REVOKE ALL ON "{db}" FROM "{user}"')
        client.run(f'GRANT {privilege} ON "{db}" TO "{user}"')


def _policies(client: Admin, database: str) -> set[str]:
    results = client.run(f'SHOW RETENTION POLICIES ON "{database}"')
    return {row[0] for series in results[0].get("series", []) for row in series.get("values", [])}
