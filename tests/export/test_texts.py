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
