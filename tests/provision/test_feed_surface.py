"""The beacon feed the city exposes (behind its TLS proxy): read-only, and no internal error text leaks."""

from __future__ import annotations

from fastapi.testclient import TestClient

from iotorino.beacons.api import create_app
from iotorino.core import inventory

INTERNAL = "statuses table at /var/lib/iotorino/state is locked"


def _feed(statuses) -> TestClient:
    fleet = inventory.default()
    return TestClient(create_app(dict(fleet.beacons), fleet, statuses), raise_server_exceptions=False)


def test_the_feed_has_no_write_endpoint():
    feed = _feed(dict)
    operations = {(path, method) for path, item in feed.get("/openapi.json").json()["paths"].items()
                  for method in item}
    assert operations and {method for _, method in operations} == {"get"}
    beacon = next(iter(inventory.default().beacons))
    for path in ("/beacons", f"/beacons/{beacon}", "/gateways", "/health"):
        for method in ("post", "put", "patch", "delete"):
            assert getattr(feed, method)(path).status_code == 405, (method, path)


def test_an_internal_failure_shows_no_internal_text():
    def broken():
        raise RuntimeError(INTERNAL)

    answer = _feed(broken).get("/beacons")
    assert answer.status_code == 500
    assert INTERNAL not in answer.text and "Traceback" not in answer.text and "RuntimeError" not in answer.text
