"""The catalogue: loading, and validation of readings against types and plausible ranges."""

import math

import pytest

from iotorino.core import catalogue
from iotorino.core.errors import Rejected
from iotorino.core.reading import Reading

CAT = catalogue.default()


def reading(**fields):
    return Reading("air_quality", {"unit": "TO-SU-0001", "district": "1"}, fields, 1)


def test_every_field_has_unit_range_and_description():
    for m in CAT.measurements.values():
        assert m.tags, m.name
        for f in m.fields.values():
            assert f.low < f.high and f.unit and f.description and f.fiware, (m.name, f.name)


def test_integers_become_floats_for_float_fields():
    out = CAT.validate(reading(pm25=12, no2=40.5))
    assert out.fields == {"pm25": 12.0, "no2": 40.5} and type(out.fields["pm25"]) is float


@pytest.mark.parametrize(
    "fields, reason, field, value",
    [
        ({"pm25": -1.0}, "out_of_range", "pm25", -1.0),
        ({"pm25": 1e9}, "out_of_range", "pm25", 1e9),
        ({"pm25": math.nan}, "out_of_range", "pm25", math.nan),
        ({"pm25": "12"}, "type", "pm25", "12"),
        ({"pm25": True}, "type", "pm25", True),
        ({"pm25": None}, "type", "pm25", None),
        ({"pm42": 1.0}, "unknown_field", "pm42", 1.0),
        ({}, "empty", "fields", {}),
    ],
)
def test_rejections_name_field_and_value(fields, reason, field, value):
    with pytest.raises(Rejected) as caught:
        CAT.validate(reading(**fields))
    rejection = caught.value
    assert rejection.reason == reason and rejection.field == field
    assert repr(value) in str(rejection) or (value != value and "nan" in str(rejection))


def test_out_of_range_says_what_is_accepted():
    with pytest.raises(Rejected, match=r"accepted: 0 to 1000 ug/m3"):
        CAT.validate(reading(pm25=-3.0))


def test_unknown_measurement_lists_the_known_ones():
    with pytest.raises(Rejected, match="air_quality") as caught:
        CAT.validate(Reading("radiation", {}, {"x": 1.0}, 1))
    assert caught.value.reason == "unknown_measurement" and caught.value.value == "radiation"
