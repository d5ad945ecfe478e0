"""Shared fixtures: real mosquitto and influxd processes on free loopback ports, the MQTT collector, Airflow's home.

Servers are started by the fixtures with temporary state directories and
stopped afterwards. Airflow's environment is set here, before anything can
import Airflow.

`pytest -m "not integration"` is the fast pure loop: it starts no server and
no Airflow. A test that would (through a fixture below or by starting
`iotorino.services` itself) without `@pytest.mark.integration` fails at once
saying so.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="iotorino-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME}/airflow.db"

from iotorino.services import Influxd, Mosquitto  # noqa: E402
from iotorino.core.store.influx_v1 import InfluxV1Client, InfluxV1Settings  # noqa: E402


# Fixtures that start a server or Airflow's database: only for tests marked integration.
SERVER_FIXTURES = frozenset({"influxd", "influx", "mosquitto", "secure_broker", "collector_factory", "mqtt_collector",
                             "airflow_db"})


# A test module all of whose tests are integration tests says so on one line.
_INTEGRATION_MODULE = re.compile(r"^pytestmark = pytest\.mark\.integration$", re.MULTILINE)


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under exactly -m "not integration", skip importing modules that hold integration tests only (their
    imports — DuckDB, pandas, Airflow's helpers — are much of the pure loop's start-up otherwise)."""
    if (config.option.markexpr.replace(" ", "") == "notintegration" and collection_path.suffix == ".py"
            and collection_path.name.startswith("test_")
            and _INTEGRATION_MODULE.search(collection_path.read_text(encoding="utf-8"))):
        return True
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a test that uses a server fixture without the integration marker, before the server starts."""
    used = SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ()))
    if used and item.get_closest_marker("integration") is None:
        pytest.fail(f"{item.nodeid} starts servers through {', '.join(sorted(used))} but is not marked "
                    "@pytest.mark.integration (the pure loop, -m 'not integration', starts none)", pytrace=False)


@pytest.fixture(autouse=True)
def _no_servers_in_pure_tests(request, monkeypatch):
    """In a test not marked integration, starting mosquitto or influxd directly fails loudly too."""
    if request.node.get_closest_marker("integration") is None:
        def refuse(server, *args, **kwargs):
            pytest.fail(f"{request.node.nodeid} starts {type(server).__name__} but is not marked "
                        "@pytest.mark.integration", pytrace=False)

        monkeypatch.setattr(Mosquitto, "start", refuse)
        monkeypatch.setattr(Influxd, "start", refuse)
    yield


@pytest.fixture(scope="session")
def influxd(tmp_path_factory):
    """One real influxd for the session; tests isolate themselves by database (see `influx`)."""
    server = Influxd(tmp_path_factory.mktemp("influxd")).start()
    yield server
    server.stop()


@pytest.fixture
def influx(influxd):
    """A v1 client on a fresh, empty database of the session's influxd."""
    client = InfluxV1Client(InfluxV1Settings(url=influxd.url, database=f"test_{uuid.uuid4().hex[:12]}"))
    client.create_database()
    yield client
    client.query(f'DROP DATABASE "{client.settings.database}"', database="")
    client.close()


@pytest.fixture
def mosquitto(tmp_path):
    """A real mosquitto broker for one test, persistence in the test's tmp dir."""
    broker = Mosquitto(tmp_path / "mosquitto").start()
    yield broker
    broker.stop()


@pytest.fixture
def secure_broker(tmp_path):
    """A real mosquitto with TLS only and passwords only (users collector/c0llect, sensor/s3nsor): (broker, certificate
    paths of tests.tls.make_certificates)."""
    from tests.tls import make_certificates

    certs = make_certificates(tmp_path)
    broker = Mosquitto(tmp_path / "broker", tls=(certs["cert"], certs["key"]),
                       users={"collector": "c0llect", "sensor": "s3nsor"}).start()
    yield broker, certs
    broker.stop()


@pytest.fixture
def collector_factory(influx, tmp_path):
    """Starts MQTT collectors storing `iotorino/v1/#` (native) into the test's database:
    `collector_factory(port, **mqtt_options)`; each is stopped at teardown unless the test did."""
    from ingest.mqtt import config as collector_config
    from ingest.mqtt.app import build_pipeline
    from ingest.mqtt.collector import Collector
    from ingest.mqtt.deadletters import DeadLetterStore

    started = []

    def start(port: int, **mqtt_options) -> Collector:
        settings = collector_config.from_dict({
            "mqtt": {"port": port, "client_id": "test-collector", **mqtt_options},
            "subscriptions": [{"topic": "iotorino/v1/#", "format": "native"}],
            "influxdb": {"url": influx.settings.url, "database": influx.settings.database},
            "batch": {"max_delay_s": 0.05},
            "deadletters": {"path": str(tmp_path / f"deadletters-{len(started)}.sqlite")},
        })
        collector = Collector(settings, build_pipeline(settings), influx, DeadLetterStore(settings.deadletters_path))
        collector.start()
        started.append(collector)
        return collector

    yield start
    for collector in started:
        if not collector._stopping.is_set():
            collector.stop()


@pytest.fixture
def mqtt_collector(mosquitto, collector_factory):
    """The project's MQTT collector, subscribed on the test broker, storing into the test database."""
    running = collector_factory(mosquitto.port)
    assert running.subscribed.wait(10)
    return running


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's metadata database (SQLite in a temporary AIRFLOW_HOME), created once."""
    from airflow.utils import db

    db.resetdb()
    return _AIRFLOW_HOME


@pytest.fixture
def cli_env():
    """Environment for running `python -m iotorino` in a subprocess on this checkout's code."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.fixture
def python():
    """The interpreter running the tests (for subprocesses)."""
    return sys.executable
