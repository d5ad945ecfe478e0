"""DCAT-AP_IT titles and descriptions: Italian first, English beside it, valid against the schema."""

from __future__ import annotations

import json

import jsonschema

from iotorino.core import paths
from iotorino.export import dcat, registry

SCHEMA = json.loads((paths.SCHEMAS / "dcat-ap_it.dataset.schema.json").read_text())
INDICATORS = ("air_quality_index_hourly", "air_quality_daily", "air_quality_indicators", "noise_daily", "school_outdoor_hourly")


def test_indicator_datasets_speak_italian_first():
    for name in INDICATORS:
        document = dcat.dataset_document(registry()[name], "2026-11-21", has_csv=True)
        jsonschema.validate(document, SCHEMA)
        for key in ("dct:title", "dct:description"):
            assert [t["@language"] for t in document[key]] == ["it", "en"], (name, key)
            assert all(t["@value"] for t in document[key])
    description = dcat.dataset_document(registry()["air_quality_daily"], "2026-11-21", True)["dct:description"]
    assert "non validato" in description[0]["@value"] and "not validated" in description[1]["@value"]


def test_every_dataset_speaks_italian_first_from_the_portal_texts():
    for name, dataset in registry().items():
        document = dcat.dataset_document(dataset, "2026-11-21", has_csv=True)
        jsonschema.validate(document, SCHEMA)
        assert [t["@language"] for t in document["dct:title"]] == ["it", "en"], name
