"""A small fleet for the simulator's tests: three street units of different profiles and two schools.

Built from `iotorino.core.inventory`'s own types, so the tests do not depend on
the size of the committed inventory.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from iotorino.core import catalogue as measurement_catalogue
from iotorino.core.inventory import Inventory, Meter, Profile, Quantity, Room, School, Sensor, StreetUnit


def _sensor(catalogue, measurement, interval_s, fields=None):
    spec = catalogue.measurement(measurement)
    names = fields or list(spec.fields)
    return Sensor("test", measurement, interval_s, {n: Quantity(spec.fields[n].unit, spec.fields[n].low, spec.fields[n].high, "") for n in names})


def build_fleet(catalogue) -> Inventory:
    """The test fleet: every measurement the simulator models, at the real profiles' intervals."""
    profiles = {
        "street-full": Profile("street-full", "street", "", (
            _sensor(catalogue, "air_quality", 300), _sensor(catalogue, "noise", 300), _sensor(catalogue, "weather", 300))),
        "street-noise": Profile("street-noise", "street", "", (
            _sensor(catalogue, "noise", 60), _sensor(catalogue, "weather", 600, ["temperature", "relative_humidity"]))),
        "classroom": Profile("classroom", "school_room", "", (_sensor(catalogue, "indoor_climate", 300),)),
        "school-meter": Profile("school-meter", "school_meter", "", (_sensor(catalogue, "energy", 900),)),
        "school-outdoor": Profile("school-outdoor", "school_outdoor", "", (_sensor(catalogue, "outdoor_climate", 600),)),
    }
    units = {
        "TO-SU-0001": StreetUnit("TO-SU-0001", 1, 7.68, 45.07, "street-full", date(2020, 5, 1)),
        "TO-SU-0002": StreetUnit("TO-SU-0002", 3, 7.64, 45.07, "street-full", date(2021, 3, 9)),
        "TO-SU-0003": StreetUnit("TO-SU-0003", 8, 7.69, 45.05, "street-noise", date(2022, 1, 20)),
    }
    schools = {
        "TO-SC-01": School(
            "TO-SC-01", "Scuola primaria di prova", "primaria", 420, 4200.0, 1, 7.68, 45.07,
            (Room("R01", "Aula 1A", "classroom"), Room("R02", "Aula 2A", "classroom")),
            (Meter("M1", "school-meter", "Main incomer"), Meter("M2", "school-meter", "Kitchen sub-board", "sub")),
            "school-outdoor",
        ),
        "TO-SC-02": School(
            "TO-SC-02", "Scuola secondaria di prova", "secondaria_1", 800, 8000.0, 4, 7.66, 45.09,
            (Room("R01", "Aula 3B", "classroom"),), (Meter("M1", "school-meter", "Main incomer"),), "school-outdoor",
        ),
    }
    return Inventory(profiles, units, schools, {})


@pytest.fixture(scope="session")
def catalogue():
    """The project's measurement catalogue."""
    return measurement_catalogue.default()


@pytest.fixture(scope="session")
def fleet(catalogue):
    """The small test fleet."""
    return build_fleet(catalogue)


def decode(message):
    """(topic parts, time, fields) of a healthy simulated message."""
    body = json.loads(message.payload)
    return message.topic.split("/"), body["time"], body["fields"]
