"""What the portal says about each dataset, in Italian and English (schemas/opendata.yaml).

English title and description come from the dataset registry unless the file
overrides them; Italian text is written in the file. A dataset without an
entry falls back to its English text in both languages (and a test fails).

Column descriptions, for the data dictionary, the DCAT document and the
portal pages: the English one is the column's own (`Column.description`, also
in the Parquet metadata) unless the file gives `en`; the Italian one is looked
up in the file, most specific first: the dataset's `dataset_columns`, the
shared `columns`, and for an hourly statistic `{field}_{stat}` the `statistics`
template filled with the field's Italian text (the dataset's `fields`, then the
shared `fields`). A column with no Italian text has None (and a test fails).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Sequence

import yaml

from iotorino.core import paths
from iotorino.core.errors import ConfigError

LANGUAGES = ("it", "en")  # Italian first
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "ANNUAL", "CONT", "IRREG")
COVERAGES = ("street", "schools", "city")


@dataclass(frozen=True)
class DatasetText:
    """A dataset's texts by language (`title`, `description`, `quality` notes), frequency and spatial coverage."""

    name: str
    title: Mapping[str, str]
    description: Mapping[str, str]
    quality: Mapping[str, tuple[str, ...]]
    frequency: str
    coverage: str
    described: bool  # False: no entry in the file, English shown for Italian


@dataclass(frozen=True)
class PortalText:
    """Publisher name and attribution by language, notes common to every dataset, and each dataset's texts."""

    publisher: Mapping[str, str]
    attribution: Mapping[str, str]
    common_quality: Mapping[str, tuple[str, ...]]
    datasets: Mapping[str, dict]
    columns: Mapping[str, dict] = field(default_factory=dict)
    dataset_columns: Mapping[str, dict] = field(default_factory=dict)
    fields: Mapping[str, str] = field(default_factory=dict)
    statistics: Mapping[str, str] = field(default_factory=dict)

    def column(self, dataset_name: str, name: str, english: str) -> dict[str, str | None]:
        """The descriptions of column `name` of dataset `dataset_name` by language; `english` is the column's own."""
        entry = self.dataset_columns.get(dataset_name) or {}
        text = (entry.get(name) if name != "fields" else None) or self.columns.get(name) or {}
        italian = text.get("it") or self._statistic(entry, name)
        return {"it": italian, "en": text.get("en") or english}

    def columns_of(self, dataset_name: str, columns: Sequence) -> list[dict[str, str | None]]:
        """`column()` of every `Column` in `columns`, in order."""
        return [self.column(dataset_name, c.name, c.description) for c in columns]

    def _statistic(self, entry: Mapping, name: str) -> str | None:
        field_name, _, stat = name.rpartition("_")
        template = self.statistics.get(stat)
        italian = (entry.get("fields") or {}).get(field_name) or self.fields.get(field_name)
        return template.format(italian) if template and italian else None

    def dataset(self, dataset) -> DatasetText:
        """The texts of `dataset` (a registry `Dataset`)."""
        entry = self.datasets.get(dataset.name) or {}
        it, en = entry.get("it") or {}, entry.get("en") or {}
        title_en = en.get("title") or dataset.title
        description_en = en.get("description") or dataset.description
        return DatasetText(
            name=dataset.name,
            title={"it": it.get("title") or title_en, "en": title_en},
            description={"it": it.get("description") or description_en, "en": description_en},
            quality={
                "it": tuple(it.get("quality") or ()) + self.common_quality["it"],
                "en": tuple(en.get("quality") or ()) + self.common_quality["en"],
            },
            frequency=entry.get("frequency", "DAILY"),
            coverage=entry.get("coverage", "city"),
            described=bool(it.get("title")),
        )


def load(path: Path | None = None) -> PortalText:
    """Read and check the portal texts; `ConfigError` naming the key otherwise."""
    path = path or paths.SCHEMAS / "opendata.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for name, entry in (data.get("datasets") or {}).items():
        if entry.get("frequency", "DAILY") not in FREQUENCIES:
            raise ConfigError(f"{path.name}: datasets.{name}.frequency", f"unknown {entry['frequency']!r}", ", ".join(FREQUENCIES))
        if entry.get("coverage", "city") not in COVERAGES:
            raise ConfigError(f"{path.name}: datasets.{name}.coverage", f"unknown {entry['coverage']!r}", ", ".join(COVERAGES))
    publisher = data.get("publisher") or {}
    common = data.get("common_quality") or {}
    return PortalText(
        publisher=publisher.get("name") or {"it": "Città di Torino", "en": "City of Turin"},
        attribution=publisher.get("attribution") or {},
        common_quality={lang: tuple(common.get(lang) or ()) for lang in LANGUAGES},
        datasets=data.get("datasets") or {},
        columns=data.get("columns") or {},
        dataset_columns=data.get("dataset_columns") or {},
        fields=data.get("fields") or {},
        statistics=data.get("statistics") or {},
    )


@lru_cache(maxsize=1)
def default() -> PortalText:
    """The project's portal texts, read once."""
    return load()
