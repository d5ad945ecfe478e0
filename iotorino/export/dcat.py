"""Beside each dataset: DCAT-AP_IT metadata (JSON-LD) and a data dictionary (CSV).

DCAT-AP_IT mandatory properties — Dataset: identifier, title, description,
modified, theme, rightsHolder, accrualPeriodicity, distribution; Distribution:
format, accessURL, license — plus the recommended publisher and contactPoint.
Licence CC BY 4.0, publisher and rights holder Comune di Torino.
`dct:modified` is the latest exported local day, so re-running a day leaves the
file unchanged.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Sequence

from iotorino.export.columns import Column

LICENCE = "https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40"
THEMES = "http://publications.europa.eu/resource/authority/data-theme/"
FREQUENCY_DAILY = "http://publications.europa.eu/resource/authority/frequency/DAILY"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
# Portal landing pages; IOTORINO_PORTAL_URL overrides the base.
PORTAL = os.environ.get("IOTORINO_PORTAL_URL", "https://aperto.comune.torino.it/dataset")
TORINO = {
    "@type": ["foaf:Organization", "dcatapit:Agent"],
    "dct:identifier": "c_l219",  # the Comune's code in the Italian public administration index (IPA)
    "foaf:name": "Comune di Torino",
}
CONTACT = {"@type": "vcard:Organization", "vcard:fn": "Comune di Torino - Open Data", "vcard:hasEmail": "mailto:opendata@comune.torino.it"}
CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "dcatapit": "http://dati.gov.it/onto/dcatapit#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "csvw": "http://www.w3.org/ns/csvw#",
    "iotorino": "https://w3id.org/iotorino/terms#",
}


def dataset_document(dataset, modified: str, has_csv: bool, columns: Sequence[Column] = ()) -> dict:
    """The DCAT-AP_IT JSON-LD document of `dataset` (a `Dataset`), last modified on day `modified`.

    With `columns`, a CSVW table schema lists each column with its description in Italian and English.
    """
    from iotorino.export.texts import default as portal_texts  # the Italian titles' owner: schemas/opendata.yaml

    portal = portal_texts()
    text = portal.dataset(dataset)
    landing = f"{PORTAL}/{dataset.name}"
    distributions = [_distribution(dataset.name, "PARQUET", "Parquet (Hive partitions date=YYYY-MM-DD, zstd)", landing)]
    if has_csv:
        distributions.append(_distribution(dataset.name, "CSV", "CSV, one file per local day", landing))
    return {
        "@context": CONTEXT,
        "@id": landing,
        "@type": ["dcat:Dataset", "dcatapit:Dataset"],
        "dct:identifier": f"c_l219:iotorino:{dataset.name}",
        "dct:title": _texts(text.title["it"], text.title["en"]),
        "dct:description": _texts(text.description["it"], text.description["en"]),
        "dct:modified": {"@type": "xsd:date", "@value": modified},
        "dcat:theme": {"@id": THEMES + dataset.theme},
        "dct:rightsHolder": TORINO,
        "dct:publisher": TORINO,
        "dcat:contactPoint": CONTACT,
        "dct:accrualPeriodicity": {"@id": FREQUENCY_DAILY},
        "dcat:keyword": list(dataset.keywords),
        "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/ITA"},
        "dcat:distribution": distributions,
        **({"csvw:tableSchema": _table_schema(dataset.name, columns, portal)} if columns else {}),
    }


def _table_schema(name: str, columns: Sequence[Column], portal) -> dict:
    """The columns as a CSVW table schema: name, datatype, unit and the descriptions tagged @it and @en."""
    out = []
    for column, described in zip(columns, portal.columns_of(name, columns)):
        entry = {"csvw:name": column.name, "csvw:datatype": str(column.type),
                 "dct:description": _texts(described["it"] or "", described["en"])}
        if column.unit:
            entry["iotorino:unit"] = column.unit
        out.append(entry)
    return {"@type": "csvw:Schema", "csvw:column": out}


def _texts(italian: str, english: str) -> dict | list[dict]:
    """A language-tagged text: Italian first and English beside it, or English alone where no Italian is given."""
    english_text = {"@language": "en", "@value": english}
    return [{"@language": "it", "@value": italian}, english_text] if italian else english_text


def _distribution(name: str, file_type: str, title: str, landing: str) -> dict:
    return {
        "@id": f"{landing}#{file_type.lower()}",
        "@type": ["dcat:Distribution", "dcatapit:Distribution"],
        "dct:title": title,
        "dct:format": {"@id": FILE_TYPE + file_type},
        "dcat:accessURL": {"@id": landing},
        "dct:license": {"@id": LICENCE, "@type": ["dct:LicenseDocument", "dcatapit:LicenseDocument"]},
    }


def write_metadata(dataset, columns: Sequence[Column], dataset_dir: Path) -> tuple[Path, Path]:
    """Write `dcat.jsonld` and `dictionary.csv` into `dataset_dir` (atomically); return both paths."""
    days = sorted(p.name.removeprefix("date=") for p in (dataset_dir / "data").glob("date=*"))
    has_csv = (dataset_dir / "csv").is_dir()
    from iotorino.export.texts import default as portal_texts

    document = dataset_document(dataset, days[-1] if days else "", has_csv, columns)
    dcat_path = _atomic_text(dataset_dir / "dcat.jsonld", json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    described = portal_texts().columns_of(dataset.name, columns)
    lines = [["column", "type", "unit", "description_it", "description_en"]] + [
        [c.name, str(c.type), c.unit, d["it"] or "", d["en"]] for c, d in zip(columns, described)]
    dictionary = _atomic_text(dataset_dir / "dictionary.csv", _csv_text(lines))
    return dcat_path, dictionary


def _csv_text(lines: list[list[str]]) -> str:
    import io

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(lines)
    return buffer.getvalue()


def _atomic_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path
