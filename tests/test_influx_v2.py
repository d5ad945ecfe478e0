"""The v2 writer through influxdb-client's real HTTP path, against the gateway into the real InfluxDB."""

from __future__ import annotations

import pytest

from iotorino.core.errors import PermanentError, TransientError
from iotorino.core.reading import Reading
from iotorino.core.store import PointsRejected
from iotorino.core.store.influx_v1 import StoreUnavailable
from iotorino.core.store.influx_v2 import InfluxV2Client, InfluxV2Settings
from iotorino.testing.influx_v2_gateway import Fault, InfluxV2Gateway

pytestmark = pytest.mark.integration
NOISE = Reading("noise", {"unit": "TO-SU-0001", "district": "1"}, {"laeq": 55.5, "lamax": 70.25}, 1_795_000_000 * 10**9)


@pytest.fixture
def gateway(influx):
    server = InfluxV2Gateway(influx.settings.url, token="secret-token").start()
    yield server
    server.stop()


def _client(gateway, influx, token="secret-token", timeout_s=10.0):
    return InfluxV2Client(InfluxV2Settings(url=gateway.url, org="turin", bucket=influx.settings.database,
                                           token=token, timeout_s=timeout_s))


def test_write_lands_in_the_database(gateway, influx):
    _client(gateway, influx).write([NOISE])
    [series] = influx.query('SELECT * FROM "noise"')
    assert series["values"] == [[NOISE.time_ns, "1", 55.5, 70.25, "TO-SU-0001"]]


def test_failures_are_classified(gateway, influx):
    client = _client(gateway, influx, timeout_s=0.5)
    gateway.inject(Fault(503), Fault(429, retry_after=7), Fault(400), Fault(hold_s=1.0))
    with pytest.raises(StoreUnavailable) as unavailable:
        client.write([NOISE])
    assert unavailable.value.status == 503
    with pytest.raises(StoreUnavailable) as throttled:
        client.write([NOISE])
    assert throttled.value.retry_after_s == 7
    with pytest.raises(PointsRejected):
        client.write([NOISE])
    with pytest.raises(TransientError):
        client.write([NOISE])
    with pytest.raises(PermanentError):
        _client(gateway, influx, token="wrong").write([NOISE])
    assert "secret-token" not in repr(client.settings)


def test_a_type_conflict_from_the_real_database_is_a_rejection(gateway, influx):
    influx.write_lines(b'noise,unit=TO-SU-0001,district=1 laeq="text" %d' % (NOISE.time_ns - 1))
    with pytest.raises(PointsRejected) as refused:
        _client(gateway, influx).write([NOISE])
    assert "conflict" in refused.value.detail
