"""Fixtures for the web application: a published tree, the app, and the app in a real uvicorn server on loopback."""

from __future__ import annotations

import threading
import time
from datetime import date, timedelta

import pytest
import uvicorn

from iotorino.export import refresh_rollups
from iotorino.services import free_port
from iotorino.web import WebSettings, create_app
from tests.export.published import DATASET, hourly_rows, publish_day

DAYS = [date(2026, 1, 30) + timedelta(days=i) for i in range(4)]  # two months: January and February 2026
UNITS = tuple(f"TO-SU-{i:04d}" for i in range(1, 61))


@pytest.fixture(scope="session")
def published(tmp_path_factory):
    """An export tree: air_quality_hourly for DAYS (60 units), one day revised by late data, with monthly and yearly files."""
    out = tmp_path_factory.mktemp("exports")
    for day in DAYS:
        publish_day(out, day, hourly_rows(day, UNITS))
    late = hourly_rows(DAYS[1], UNITS)  # late data revised the second day's first hour at every unit
    for i in range(0, len(late["pm10_mean"]), 24):
        late["pm10_mean"][i] += 3.0
        late["pm10_count"][i] += 2
    publish_day(out, DAYS[1], late, trigger="airflow export_air_quality_hourly manual__late-data")
    refresh_rollups(out, DATASET)
    return out


@pytest.fixture(scope="session")
def app(published):
    """The web application over `published`."""
    return create_app(WebSettings(exports_dir=published, base_url="https://dati.example.it"))


class RunningServer:
    """A uvicorn server running `app` in a thread on 127.0.0.1; `url` is its root (`lifespan="on"`: the app's
    start-up and shut-down run, e.g. the alert board's MQTT feed)."""

    def __init__(self, app, lifespan: str = "off") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan=lifespan))
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def start(self) -> "RunningServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="session")
def server(app):
    """The app served by a real uvicorn on a free loopback port (for the session)."""
    running = RunningServer(app).start()
    yield running
    running.stop()


from tests.browser import browser_page, chromium  # noqa: E402,F401  (the real-browser fixtures, for every section's pages)
