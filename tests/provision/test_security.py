"""The secure stack's promises, checked against the real Mosquitto and InfluxDB it runs."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest
import requests

from iotorino.core import inventory
from iotorino.provision import pki
from iotorino.provision.provision import issue_client
from iotorino.provision.secrets import SecretStore
from tests.provision.clients import Session, connects
from tests.provision.conftest import GATEWAY

pytestmark = pytest.mark.integration

FLEET = inventory.default()
UNIT_A, UNIT_B = sorted(FLEET.street_units)[:2]
SCHOOL = sorted(FLEET.schools.values(), key=lambda s: s.id)[0]
ROOM_USER = f"{SCHOOL.id}.{SCHOOL.rooms[0].id}"
MEASUREMENT_A = FLEET.profiles[FLEET.street_units[UNIT_A].profile].measurements[0]
MEASUREMENT_B = FLEET.profiles[FLEET.street_units[UNIT_B].profile].measurements[0]
SERVICES = ("collector", "monitor", "alerts-city", "alerts-school", "web")


@pytest.fixture(scope="module")
def secrets(secure_stack) -> SecretStore:
    return SecretStore(secure_stack.settings.output / "secrets")


@pytest.fixture(scope="module")
def ca(secure_stack) -> Path:
    return secure_stack.settings.output / "tls" / "ca.pem"


@pytest.fixture
def session(secure_stack, ca, secrets):
    """`session(user)`: a connected client with that user's provisioned password."""
    opened = []

    def open_as(user: str) -> Session:
        password = secrets.service(f"mqtt-{user}") if user in SERVICES \
            else secrets.devices([user])[user]
        opened.append(Session(secure_stack.settings.broker_port, ca, user, password))
        assert opened[-1].accepted, f"{user} refused"
        return opened[-1]

    yield open_as
    for client in opened:
        client.close()


def test_anonymous_is_refused(secure_stack, ca):
    assert not connects(secure_stack.settings.broker_port, ca)


def test_wrong_password_is_refused_and_not_logged(secure_stack, ca, secrets):
    wrong = "not-the-password-4f1c9e"
    assert not connects(secure_stack.settings.broker_port, ca, UNIT_A, wrong)
    assert connects(secure_stack.settings.broker_port, ca, UNIT_A, secrets.devices([UNIT_A])[UNIT_A])
    log = (secure_stack.state / "logs" / "mosquitto.log").read_text()
    assert UNIT_A in log  # the refusal is logged, with the user name
    assert wrong not in log


def test_a_device_publishes_only_its_own_topics(session):
    device = session(UNIT_A)
    assert device.publish(f"iotorino/v1/street/{UNIT_A}/{MEASUREMENT_A}")
    assert not device.publish(f"iotorino/v1/street/{UNIT_B}/{MEASUREMENT_B}")
    assert not device.publish(f"iotorino/v1/school/{SCHOOL.id}/{SCHOOL.rooms[0].id}/indoor_climate")
    assert not device.publish(f"iotorino/v1/gateway/{UNIT_A}/ble_gateway")


def test_a_school_sensor_cannot_publish_as_a_street_unit(session):
    room = session(ROOM_USER)
    assert room.publish(f"iotorino/v1/school/{SCHOOL.id}/{SCHOOL.rooms[0].id}/indoor_climate")
    assert not room.publish(f"iotorino/v1/street/{ROOM_USER}/{MEASUREMENT_A}")


def _until(done, what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_gateway_publishes_sightings_and_heartbeat_only(session):
    gateway = session(GATEWAY)
    assert gateway.publish(f"iotorino/v1/beacon/TO-BC-0001/{GATEWAY}/beacon_sighting")
    assert gateway.publish(f"iotorino/v1/gateway/{GATEWAY}/ble_gateway")
    assert not gateway.publish(f"iotorino/v1/beacon/TO-BC-0001/OTHER-GW/beacon_sighting")
    assert not gateway.publish(f"iotorino/v1/beacon/TO-BC-0001/{GATEWAY}/beacon_status")
    assert not gateway.publish(f"iotorino/v1/street/{UNIT_A}/{MEASUREMENT_A}")


def test_the_collector_cannot_write_alerts_or_readings(session):
    collector = session("collector")
    assert not collector.publish("iotorino/alerts/city/pm10")
    assert not collector.publish(f"iotorino/v1/street/{UNIT_A}/{MEASUREMENT_A}")
    assert not collector.publish("iotorino/beacons/TO-BC-0001/status")


def test_only_the_collector_reads_the_native_tree(session):
    """Nobody else gets the readings, whatever they subscribe to. Mosquitto 2.0's acl_file checks
    reading when a message is delivered: a SUBSCRIBE without a matching `topic read` is acknowledged,
    but not one message reaches the subscriber."""
    others = []
    for user in ("monitor", "alerts-school", "web", GATEWAY, UNIT_B):
        for topic in ("#", "iotorino/v1/#", "$share/g/#", f"iotorino/v1/street/{UNIT_A}/{MEASUREMENT_A}"):
            others.append(session(user))
            # Mosquitto 2.0.11 with an acl_file grants every SUBSCRIBE (SUBACK 0x01): pinned here, so that a
            # broker that starts refusing (0x87) shows up and the README's security section is updated.
            assert others[-1].subscribe(topic), (user, topic)
    collector = session("collector")
    assert collector.subscribe("iotorino/v1/#")
    device = session(UNIT_A)
    for marker in (1, 2):  # the second is delivered behind the first to every reader
        assert device.publish(f"iotorino/v1/street/{UNIT_A}/{MEASUREMENT_A}", b'{"marker": %d}' % marker)
    _until(lambda: len(collector.messages) == 2, "the collector got the readings")
    # (The monitor's sessions do get the retained beacon statuses it may read: not readings.)
    assert [m.topic for o in others for m in o.messages if m.topic.startswith("iotorino/v1/")] == []


def test_the_monitor_reads_sightings_and_heartbeats_only(session):
    monitor = session("monitor")
    monitor.subscribe("iotorino/v1/#")
    gateway = session(GATEWAY)
    assert gateway.publish(f"iotorino/v1/beacon/TO-BC-0001/{GATEWAY}/beacon_sighting", b"{}")
    _until(lambda: monitor.messages, "the monitor got no sighting")
    assert session(UNIT_A).publish(f"iotorino/v1/street/{UNIT_A}/{MEASUREMENT_A}", b"{}")
    assert gateway.publish(f"iotorino/v1/gateway/{GATEWAY}/ble_gateway", b"{}")
    _until(lambda: len(monitor.messages) >= 2, "the monitor got no heartbeat")
    assert [m.topic.split("/")[2] for m in monitor.messages] == ["beacon", "gateway"]


def test_a_reading_goes_from_device_to_store_over_tls(session, secure_stack, secrets):
    """Per-device credential -> broker -> shared subscription -> a collector -> InfluxDB (writer user)."""
    fields = FLEET.profiles[FLEET.street_units[UNIT_A].profile].quantities(MEASUREMENT_A)
    field = sorted(fields)[0]
    stamp = time.time_ns() // 10**9 - 60
    assert session(UNIT_A).publish(f"iotorino/v1/street/{UNIT_A}/{MEASUREMENT_A}",
                                   json.dumps({"time": stamp, "fields": {field: 1.5}}).encode())
    reader = ("exports", secrets.service("influx-exports"))
    query = f'SELECT "{field}" FROM "{MEASUREMENT_A}" WHERE "unit" = \'{UNIT_A}\' AND time = {stamp}s'
    answer = {}

    def stored() -> bool:
        answer.update(requests.post(f"{secure_stack.influx_url}/query", auth=reader, timeout=5,
                                    data={"db": secure_stack.settings.database, "q": query, "epoch": "s"}).json())
        return bool(answer["results"][0].get("series"))

    _until(stored, "the reading never reached InfluxDB", 30)
    assert answer["results"][0]["series"][0]["values"] == [[stamp, 1.5]]


def test_plain_tcp_to_the_tls_listener_fails(secure_stack):
    import socket

    with socket.create_connection(("127.0.0.1", secure_stack.settings.broker_port), timeout=5) as raw:
        # An MQTT 5 CONNECT in clear text: the TLS listener never answers it with a CONNACK.
        raw.sendall(bytes.fromhex("101000044d5154540502003c0000000374657374"))
        raw.settimeout(5)
        try:
            answer = raw.recv(4)
        except (ConnectionResetError, TimeoutError):
            answer = b""
    assert not answer.startswith(b"\x20")


def test_client_certificates(secure_stack, ca, tmp_path):
    """On the certificate listener the certificate's CN is the user; expired or foreign ones are refused."""
    out = secure_stack.settings.output
    port = secure_stack.settings.certificate_port
    authority = pki.Authority.load(out / "tls" / "ca.pem", out / "secrets" / "ca.key")
    good = issue_client(tmp_path, authority, UNIT_A)
    with_cert = Session(port, ca, cert=good)
    try:
        assert with_cert.accepted
        assert with_cert.publish(f"iotorino/v1/street/{UNIT_A}/{MEASUREMENT_A}")
        assert not with_cert.publish(f"iotorino/v1/street/{UNIT_B}/{MEASUREMENT_B}")
    finally:
        with_cert.close()

    certificate, key = authority.issue(UNIT_A, days=1, not_before=dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=3))
    expired = (tmp_path / "expired.pem", tmp_path / "expired.key")
    pki.write_pem(expired[0], certificate)
    pki.write_key(expired[1], key)
    assert not connects(port, ca, cert=expired)

    foreign = issue_client(tmp_path / "foreign", pki.Authority.create("Someone else's CA"), UNIT_A)
    assert not connects(port, ca, cert=foreign)
    assert not connects(port, ca)  # no certificate at all


def test_influxdb_refuses_unauthenticated_and_reader_writes(secure_stack, secrets):
    url, db = secure_stack.influx_url, secure_stack.settings.database
    anonymous = requests.post(f"{url}/query", data={"db": db, "q": "SHOW MEASUREMENTS"}, timeout=5)
    assert anonymous.status_code == 401
    for reader in ("exports", "web", "monitor"):
        refused = requests.post(f"{url}/write", params={"db": db}, data=b"probe value=1",
                                auth=(reader, secrets.service(f"influx-{reader}")), timeout=5)
        assert refused.status_code == 403, reader
    wrote = requests.post(f"{url}/write", params={"db": db}, data=b"probe value=1",
                          auth=("downsampler", secrets.service("influx-downsampler")), timeout=5)
    assert wrote.status_code == 204
    admin_only = requests.post(f"{url}/query", data={"q": "SHOW USERS"},
                               auth=("collector", secrets.service("influx-collector")), timeout=5)
    assert admin_only.status_code == 403 or "error" in json.dumps(admin_only.json())


def test_retention_policies_are_created(secure_stack, secrets):
    body = requests.post(f"{secure_stack.influx_url}/query", timeout=5,
                         auth=("admin", secrets.service("influx-admin")),
                         data={"q": f'SHOW RETENTION POLICIES ON "{secure_stack.settings.database}"'}).json()
    rows = {row[0]: row for row in body["results"][0]["series"][0]["values"]}
    assert rows["raw"][1] == "9600h0m0s" and rows["raw"][4] is True
    assert rows["hourly"][1] == "0s"


def test_no_secret_in_logs_metrics_command_lines_or_configs(secure_stack, secrets):
    output = secure_stack.settings.output
    values = [line.split(",", 1)[1] for line in (output / "secrets" / "devices.csv").read_text().splitlines()[1:]]
    values += [p.read_text().strip() for p in (output / "secrets").iterdir() if p.name != "devices.csv"]
    assert len(values) > 900
    texts = {str(p): p.read_text(errors="replace") for p in output.rglob("*")
             if p.is_file() and "secrets" not in p.parts and p.suffix in (".log", ".conf", ".toml", ".json", "")
             and p.name != "passwords" and p.stat().st_size < 5_000_000}
    for member in secure_stack.members():
        texts[f"cmdline {member.name}"] = Path(f"/proc/{member.pid}/cmdline").read_bytes().decode(errors="replace")
    for port in secure_stack.settings.metrics_ports:
        texts[f"metrics {port}"] = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            texts[f"/proc/{proc.name}/cmdline"] = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            pass
    joined = "\n".join(texts.values())
    leaked = [name for name, text in texts.items() if any(value in text for value in values[-20:])]
    assert not leaked
    assert not any(value in joined for value in values)
    # The password file holds hashes only.
    hashes = (output / "mosquitto" / "passwords").read_text()
    assert not any(value in hashes for value in values)


def test_influx_errors_never_show_passwords(secure_stack):
    """A failed set-up names the statement, with every password masked."""
    from iotorino.provision import influx

    wrong_admin, new_password = "wrong-admin-password-81f2", "new-password-never-shown-77c1"
    with pytest.raises(influx.InfluxSetupError) as error:
        influx.set_up(secure_stack.influx_url, secure_stack.settings, ("admin", wrong_admin),
                      {"collector": (new_password, "WRITE")})
    assert "CREATE USER admin WITH PASSWORD ***" in str(error.value)
    assert wrong_admin not in str(error.value) and new_password not in str(error.value)


def test_rotating_one_device_leaves_the_others_connected(secure_stack, ca, secrets, python, cli_env, tmp_path):
    """`iotorino provision rotate` on the running stack: the broker reloads, the old password stops working,
    every other device keeps its own."""
    import subprocess

    from tests.provision.conftest import GATEWAY as OTHER

    rotated = sorted(FLEET.street_units)[10]
    port = secure_stack.settings.broker_port
    old = secrets.devices([rotated])[rotated]
    assert connects(port, ca, rotated, old)
    config = tmp_path / "stack.toml"
    config.write_text(f'[stack]\noutput = "{secure_stack.settings.output}"\n')
    done = subprocess.run([python, "-m", "iotorino", "provision", "--settings", str(config), "rotate", rotated],
                          env=cli_env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "broker reloaded" in done.stdout
    new = secrets.devices([rotated])[rotated]
    assert new != old and new not in done.stdout + done.stderr
    _until(lambda: not connects(port, ca, rotated, old), "the old password still works")
    assert connects(port, ca, rotated, new)
    assert connects(port, ca, OTHER, secrets.devices([OTHER])[OTHER])


def test_each_alert_service_writes_only_its_own_alerts_and_the_web_only_reads_them(session):
    city, school, web = session("alerts-city"), session("alerts-school"), session("web")
    assert web.subscribe("iotorino/alerts/#")
    alert = b'{"probe": "retained alert"}'
    assert city.publish(f"iotorino/alerts/city/{UNIT_A}/pm10_daily", alert)
    assert school.publish(f"iotorino/alerts/school/{SCHOOL.id}/co2", alert)
    assert not city.publish(f"iotorino/alerts/school/{SCHOOL.id}/co2")
    assert not school.publish(f"iotorino/alerts/city/{UNIT_A}/pm10_daily")
    assert not city.publish(f"iotorino/v1/street/{UNIT_A}/{MEASUREMENT_A}")
    assert not web.publish("iotorino/alerts/city/x/y")
    assert not session("monitor").publish("iotorino/alerts/city/x/y")
    probes = {f"iotorino/alerts/city/{UNIT_A}/pm10_daily", f"iotorino/alerts/school/{SCHOOL.id}/co2"}
    # (Alerts the running services retained earlier arrive too.)
    _until(lambda: probes <= {m.topic for m in web.messages if m.payload == alert}, "the web application got the alerts")


def test_an_alert_service_reads_only_its_scope(session):
    city = session("alerts-city")
    assert city.subscribe("iotorino/v1/#")
    assert session(ROOM_USER).publish(f"iotorino/v1/school/{SCHOOL.id}/{SCHOOL.rooms[0].id}/indoor_climate", b"{}")
    street = FLEET.profiles[FLEET.street_units[UNIT_A].profile].measurements
    measurement = next(m for m in ("air_quality", "noise") if m in street)
    assert session(UNIT_A).publish(f"iotorino/v1/street/{UNIT_A}/{measurement}", b"{}")
    _until(lambda: city.messages, "the city's alert service got no street reading")
    assert [m.topic.split("/")[2] for m in city.messages] == ["street"]


def _https(stack, path: str, method: str = "GET") -> requests.Response:
    return requests.request(method, f"https://127.0.0.1:{stack.settings.web_port}{path}", verify=str(stack.ca),
                            timeout=30)


def _feed(stack, path: str, method: str = "GET") -> requests.Response:
    return requests.request(method, f"http://127.0.0.1:{stack.settings.monitor_api_port}{path}", timeout=30)


WEB_PATHS = ("/", "/dati", "/dati/air_quality_hourly", "/scuole", "/citta", "/metrics", "/healthz", "/readyz")
FEED_PATHS = ("/beacons", "/beacons/TO-BC-0001", "/gateways", "/health", "/healthz", "/readyz", "/metrics")


def test_the_web_application_and_the_feed_have_no_write_endpoint(secure_stack):
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for path in WEB_PATHS:
            assert _https(secure_stack, path, method).status_code == 405, (method, path)
        for path in FEED_PATHS:
            assert _feed(secure_stack, path, method).status_code == 405, (method, path)


def test_the_web_application_answers_only_over_https_with_the_stacks_certificate(secure_stack):
    assert _https(secure_stack, "/healthz").json() == {"alive": True}
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{secure_stack.settings.web_port}/healthz", timeout=10)
    with pytest.raises(requests.exceptions.SSLError):  # the system's CAs do not vouch for the dev CA
        requests.get(f"https://127.0.0.1:{secure_stack.settings.web_port}/healthz", timeout=10)


def test_bad_requests_show_no_internal_error_text(secure_stack):
    """Unknown, malformed and hostile paths get an error page in Italian and English, never a trace, an
    exception's name or a file path of the installation."""
    from iotorino.core import paths

    answers = [_https(secure_stack, path) for path in (
        "/dati/no-such-dataset", "/dati/air_quality_hourly/..%2F..%2Fmanifest.json", "/dati/air_quality_hourly/x.parquet",
        "/scuole/%27%22%3E%3Cscript%3E", "/scuole/NOPE/alunni",
        "/static/..%2F..%2Fapp.py", "/%00")]
    answers += [_feed(secure_stack, path) for path in (
        "/beacons/NOPE", "/lookup/ibeacon?uuid=zz&major=-1&minor=x", "/lookup/eddystone?namespace=%00")]
    for answer in answers:
        assert 400 <= answer.status_code < 500, (answer.url, answer.status_code)
        text = answer.text
        for leak in ("Traceback", "File \"", "Exception", "Error:", str(paths.ROOT), str(secure_stack.settings.output),
                     "<script>"):
            assert leak not in text, (answer.url, leak)
