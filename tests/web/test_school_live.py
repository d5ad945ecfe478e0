"""The pupils' page reads each classroom's CO₂ of the last 30 minutes from a real InfluxDB: the traffic lights."""

from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient

from iotorino.core.reading import Reading
from iotorino.web import WebSettings, create_app

pytestmark = pytest.mark.integration


def test_classroom_lights_follow_the_last_half_hour_in_the_store(influx, tmp_path):
    now = time.time_ns()
    minute = 60 * 1_000_000_000
    influx.write([
        Reading("indoor_climate", {"school": "TO-SC-01", "room": "R01"}, {"co2": 1800.0}, now - 20 * minute),
        Reading("indoor_climate", {"school": "TO-SC-01", "room": "R01"}, {"co2": 1650.0}, now - 2 * minute),
        Reading("indoor_climate", {"school": "TO-SC-01", "room": "R02"}, {"co2": 1200.0}, now - 5 * minute),
        Reading("indoor_climate", {"school": "TO-SC-01", "room": "R03"}, {"co2": 700.0}, now - 5 * minute),
        Reading("indoor_climate", {"school": "TO-SC-01", "room": "R04"}, {"co2": 2500.0}, now - 90 * minute),
    ])
    app = create_app(WebSettings(exports_dir=tmp_path, base_url="https://dati.example.it", store=influx))
    rooms = {r["room_id"]: r for r in TestClient(app).get("/scuole/TO-SC-01/alunni.json").json()["rooms"]}
    assert (rooms["R01"]["co2_ppm"], rooms["R01"]["light"]) == (1650.0, "red")  # the last value, not the worst
    assert rooms["R02"]["light"] == "yellow" and rooms["R03"]["light"] == "green"
    assert (rooms["R04"]["co2_ppm"], rooms["R04"]["light"]) == (None, "grey")  # older than 30 minutes
    html = TestClient(app).get("/scuole/TO-SC-01/alunni").text
    assert "Apriamo subito le finestre!" in html and "1650 ppm" in html
