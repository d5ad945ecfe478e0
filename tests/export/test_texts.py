"""Portal texts: every registered dataset is described in Italian and English, with a known frequency and coverage."""

from __future__ import annotations

import pytest

from iotorino.core.errors import ConfigError
from iotorino.export import portal_texts, registry
from iotorino.export import texts as texts_mod


@pytest.mark.parametrize("name", list(registry()))
def test_every_dataset_has_italian_and_english_text(name):
    text = portal_texts().dataset(registry()[name])
    assert text.described, f"{name}: add it to schemas/opendata.yaml"
    assert text.title["it"] != text.title["en"] and text.description["it"] != text.description["en"]
    assert len(text.quality["it"]) == len(text.quality["en"]) >= 3


def test_a_bad_frequency_is_a_config_error_naming_the_key(tmp_path):
    bad = tmp_path / "opendata.yaml"
    bad.write_text("datasets:\n  stations:\n    frequency: SOMETIMES\n")
    with pytest.raises(ConfigError, match="datasets.stations.frequency"):
        texts_mod.load(bad)


def dataset_columns() -> dict[str, list]:
    """The columns of every dataset whose columns are known without a store (the rest: test_all_datasets)."""
    from iotorino.core import catalogue
    from iotorino.export import air_quality, energy_dataset, school_daily
    from iotorino.export.columns import COMPLETENESS, HOUR_COLUMNS, stat_columns, tag_column

    def hourly(measurement: str, tags: dict[str, str]) -> list:
        spec = catalogue.default().measurement(measurement)
        out = [tag_column(spec, t, c) for t, c in tags.items()] + HOUR_COLUMNS
        for f, s in spec.fields.items():
            if s.kind == "gauge":
                out += stat_columns(s)
        return out + [COMPLETENESS]

    street = {"unit": "unit_id", "district": "district"}
    return {
        "air_quality_hourly": hourly("air_quality", street),
        "noise_hourly": hourly("noise", street),
        "weather_hourly": hourly("weather", street),
        "classroom_environment_hourly": hourly("indoor_climate", {"school": "school_id", "room": "room_id"}),
        "school_outdoor_hourly": hourly("outdoor_climate", {"school": "school_id"}),
        "school_energy_hourly": energy_dataset.columns(catalogue.default().measurement("energy"), energy_dataset.ELECTRICITY),
        "school_heat_hourly": energy_dataset.columns(catalogue.default().measurement("heat"), energy_dataset.HEAT),
        "school_energy_daily": school_daily.ENERGY_COLUMNS,
        "classroom_air_daily": school_daily.AIR_COLUMNS,
        "air_quality_index_hourly": air_quality.index_columns(),
        "air_quality_daily": air_quality.DAILY_COLUMNS,
        "air_quality_indicators": air_quality.INDICATOR_COLUMNS,
        "noise_daily": air_quality.noise_columns(),
    }


@pytest.mark.parametrize("name", list(dataset_columns()))
def test_every_column_is_described_in_italian_and_english(name):
    for column in dataset_columns()[name]:
        text = portal_texts().column(name, column.name, column.description)
        assert text["it"] and text["en"], f"{name}.{column.name}: add its Italian text to schemas/opendata.yaml"
        assert text["it"] != text["en"], f"{name}.{column.name}"


def test_the_mixed_language_columns_have_an_english_text_of_their_own():
    from iotorino.export import air_quality

    for column in air_quality.INDICATOR_COLUMNS + air_quality.DAILY_COLUMNS:
        english = portal_texts().column("air_quality_indicators" if column in air_quality.INDICATOR_COLUMNS
                                        else "air_quality_daily", column.name, column.description)["en"]
        assert not any(word in english for word in (" dell", "Superamenti", "Giorno locale", "Inquinante")), column.name


def test_an_hourly_statistic_takes_the_template_and_the_field_in_italian():
    text = portal_texts().column("classroom_environment_hourly", "co2_max", "Maximum over the hour of: Indoor CO2.")
    assert text == {"it": "Massimo orario di: Concentrazione di anidride carbonica interna.",
                    "en": "Maximum over the hour of: Indoor CO2."}
    assert portal_texts().column("weather_hourly", "no_such_max", "x")["it"] is None
