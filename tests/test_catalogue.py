"""The catalogue: loading, and validation of readings against types and plausible ranges."""

import math

import pytest

from iotorino.core import catalogue
from iotorino.core.errors import ConfigError, Rejected
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


# -- field-level quarantine --------------------------------------------------------------------------------


def test_a_half_invalid_reading_keeps_its_valid_fields_and_sets_each_invalid_value_aside():
    checked = CAT.check(reading(pm25=12, pm10=-3.0, no2="high", pm42=1.0))
    assert checked.reading.fields == {"pm25": 12.0, catalogue.QUARANTINED_FIELD: 3}
    assert type(checked.reading.fields["pm25"]) is float
    assert [(r.reason, r.field, r.value) for r in checked.rejected] == [
        ("out_of_range", "pm10", -3.0), ("type", "no2", "high"), ("unknown_field", "pm42", 1.0)]
    out_of_range = checked.rejected[0].describe()
    assert "air_quality.pm10" in out_of_range and "-3.0" in out_of_range and "0 to 2000 ug/m3" in out_of_range


def test_a_valid_reading_is_checked_like_validate():
    valid = reading(pm25=12, no2=40.5)
    assert CAT.check(valid).reading == CAT.validate(valid) and CAT.check(valid).rejected == ()


def test_a_reading_with_no_valid_field_keeps_only_the_count():
    checked = CAT.check(reading(pm25=-1.0))
    assert checked.reading.fields == {catalogue.QUARANTINED_FIELD: 1} and len(checked.rejected) == 1


def test_reject_message_measurements_are_all_or_nothing():
    status = Reading("beacon_status", {"beacon": "B", "gateway": "monitor"}, {"status_code": 0, "unseen_s": -5.0}, 1)
    assert CAT.measurement("beacon_status").invalid_fields == catalogue.REJECT_MESSAGE
    with pytest.raises(Rejected, match="unseen_s"):
        CAT.check(status)


def changed_catalogue(tmp_path, old: str, new: str):
    """The project's catalogue file with its first `old` replaced by `new`, written under `tmp_path`."""
    text = (catalogue.paths.SCHEMAS / "catalogue.yaml").read_text(encoding="utf-8")
    changed = text.replace(old, new, 1)
    assert changed != text
    (tmp_path / "catalogue.yaml").write_text(changed, encoding="utf-8")
    return tmp_path / "catalogue.yaml"


def test_the_setting_is_read_from_the_catalogue_file(tmp_path):
    strict = catalogue.load(changed_catalogue(tmp_path, "    fiware_entity: AirQualityObserved\n",
                                              "    fiware_entity: AirQualityObserved\n    invalid_fields: reject_message\n"))
    with pytest.raises(Rejected, match="pm10"):
        strict.check(reading(pm25=12, pm10=-3.0))


def test_a_beacon_sighting_is_kept_when_its_advertised_power_is_odd():
    sighting = Reading("beacon_sighting", {"beacon": "TO-BC-0001", "gateway": "GW-01"},
                       {"sightings": 12, "rssi_median": -71.5, "measured_power": 90.0}, 1)
    checked = CAT.check(sighting)
    assert checked.reading.fields == {"sightings": 12, "rssi_median": -71.5, catalogue.QUARANTINED_FIELD: 1}
    assert [r.field for r in checked.rejected] == ["measured_power"]


def test_sound_levels_average_energetically_and_everything_else_arithmetically():
    averages = {(m.name, f.name): f.average for m in CAT.measurements.values() for f in m.fields.values()}
    assert {k for k, a in averages.items() if a == catalogue.ENERGETIC} == {("noise", "laeq"), ("noise", "lamax")}
    assert CAT.energetic_fields("noise") == frozenset({"laeq", "lamax"})
    # Every sound level (dB(A)) is energetic; dBm signal strengths are not sound energies.
    assert all(f.average == catalogue.ENERGETIC for m in CAT.measurements.values() for f in m.fields.values()
               if f.label == "dB(A)")
    assert CAT.energetic_fields("weather") == frozenset() and CAT.energetic_fields("no_such") == frozenset()


def test_an_unknown_averaging_rule_names_the_key_and_the_accepted_rules(tmp_path):
    path = changed_catalogue(tmp_path, "average: energetic, description: A-weighted equivalent",
                             "average: median, description: A-weighted equivalent")
    with pytest.raises(ConfigError) as raised:
        catalogue.load(path)
    assert raised.value.key == "measurements.noise.fields.laeq.average"
    assert "median" in str(raised.value) and "arithmetic, energetic" in str(raised.value)
