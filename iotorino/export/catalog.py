"""The harvestable DCAT-AP_IT catalogue of every published dataset, as an RDF graph (Turtle and JSON-LD).

One `dcat:Catalog` (publisher Città di Torino) holding each dataset that has
published files. A dataset carries the DCAT-AP_IT mandatory properties
(identifier, title and description in Italian and English, modified, theme,
rights holder, accrual periodicity, distributions) and the recommended ones
(publisher, contact point, keywords, language, temporal and spatial coverage,
landing page). `dct:modified` is the day (Europe/Rome) the data last changed,
from the manifest. Distributions are the yearly files (Parquet and CSV, with
size and SHA-256) — one CKAN resource each, not one per day — plus the page
listing every day and month. Shaped for ckanext-dcat: `dcat:downloadURL`,
`dcat:mediaType`, `dct:license` as a `dct:LicenseDocument`, `dcat:bbox`.
Checked by `schemas/dcat-ap_it.shapes.ttl` in the tests.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Iterable, Mapping
from zoneinfo import ZoneInfo

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from iotorino.export import dcat as dataset_metadata
from iotorino.export import layout, provenance
from iotorino.export.texts import DatasetText, PortalText

DCATAPIT = Namespace("http://dati.gov.it/onto/dcatapit#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SCHEMA = Namespace("http://schema.org/")
SPDX = Namespace("http://spdx.org/rdf/terms#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
ADMS_LICENCE_TYPE = URIRef("http://purl.org/adms/licencetype/Attribution")
FREQUENCY = "http://publications.europa.eu/resource/authority/frequency/"
LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
MEDIA = "http://www.iana.org/assignments/media-types/"
THEME_TAXONOMY = URIRef("http://publications.europa.eu/resource/authority/data-theme")
TORINO_IPA = URIRef("http://spcdata.digitpa.gov.it/Amministrazione/c_l219")  # the Comune in the IPA linked data
TORINO_GEONAMES = URIRef("http://sws.geonames.org/3165524/")
ROME = ZoneInfo("Europe/Rome")
PREFIXES = {"dcat": DCAT, "dct": DCTERMS, "dcatapit": DCATAPIT, "foaf": FOAF, "vcard": VCARD,
            "schema": SCHEMA, "spdx": SPDX, "locn": LOCN, "gsp": GSP, "xsd": XSD}
JSONLD_CONTEXT = {prefix: str(ns) for prefix, ns in PREFIXES.items()}
CATALOGUE_TEXT = {
    "title": {"it": "IoTorino: dati aperti dei sensori della Città di Torino",
              "en": "IoTorino: open data from the City of Turin's sensors"},
    "description": {
        "it": "Dati orari e giornalieri dei sensori stradali (aria, rumore, meteo) e delle scuole (energia, ambiente "
              "delle aule) del progetto IoTorino, con inventario, qualità dei dati, manifest e registro delle modifiche.",
        "en": "Hourly and daily data from the IoTorino street sensors (air, noise, weather) and schools (energy, "
              "classroom environment), with inventory, data quality, manifests and change logs.",
    },
}


def catalogue_graph(
    out_dir: Path,
    datasets: Iterable,
    texts: PortalText,
    base_url: str,
    extents: Mapping[str, tuple[float, float, float, float]] = {},
) -> Graph:
    """The catalogue of the `datasets` (registry `Dataset`s) that have files under `out_dir`.

    `base_url` is the portal's public root (e.g. https://dati.example.it);
    `extents` gives each coverage kind (street, schools, city) its lon/lat bbox.
    """
    base = base_url.rstrip("/")
    graph = Graph()
    for prefix, ns in PREFIXES.items():
        graph.bind(prefix, ns)
    catalog = URIRef(f"{base}/dati/catalogo")
    agent = _agent(graph, texts)
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, RDF.type, DCATAPIT.Catalog))
    _texts(graph, catalog, DCTERMS.title, CATALOGUE_TEXT["title"])
    _texts(graph, catalog, DCTERMS.description, CATALOGUE_TEXT["description"])
    graph.add((catalog, DCTERMS.publisher, agent))
    graph.add((catalog, FOAF.homepage, URIRef(f"{base}/dati")))
    graph.add((catalog, DCTERMS.language, URIRef(LANGUAGE + "ITA")))
    graph.add((catalog, DCAT.themeTaxonomy, THEME_TAXONOMY))
    modified = []
    for dataset in datasets:
        manifest = provenance.read_manifest(out_dir, dataset.name)
        days = layout.days(out_dir, dataset.name)
        if not days or not manifest["files"]:
            continue
        changed = _local_date(manifest["modified"]) if manifest.get("modified") else days[-1]
        modified.append(changed)
        node = _dataset(graph, base, dataset, texts.dataset(dataset), manifest, days, changed, agent, extents)
        graph.add((catalog, DCAT.dataset, node))
    graph.add((catalog, DCTERMS.modified, Literal(max(modified, default=date.today()), datatype=XSD.date)))
    return graph


def turtle(graph: Graph) -> str:
    """The graph as Turtle."""
    return graph.serialize(format="turtle")


def jsonld(graph: Graph) -> str:
    """The graph as compacted JSON-LD with the catalogue's prefixes as context."""
    return graph.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True, indent=1)


def _dataset(graph, base, dataset, text: DatasetText, manifest, days, changed, agent, extents) -> URIRef:
    landing = f"{base}/dati/{dataset.name}"
    node = URIRef(landing)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, RDF.type, DCATAPIT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal(f"c_l219:iotorino:{dataset.name}")))
    _texts(graph, node, DCTERMS.title, text.title)
    _texts(graph, node, DCTERMS.description, text.description)
    graph.add((node, DCTERMS.modified, Literal(changed, datatype=XSD.date)))
    graph.add((node, DCAT.theme, URIRef(dataset_metadata.THEMES + dataset.theme)))
    graph.add((node, DCTERMS.rightsHolder, agent))
    graph.add((node, DCTERMS.publisher, agent))
    graph.add((node, DCTERMS.accrualPeriodicity, URIRef(FREQUENCY + text.frequency)))
    graph.add((node, DCTERMS.language, URIRef(LANGUAGE + "ITA")))
    graph.add((node, DCTERMS.language, URIRef(LANGUAGE + "ENG")))
    graph.add((node, DCAT.landingPage, URIRef(landing)))
    graph.add((node, DCAT.contactPoint, _contact(graph)))
    for keyword in dataset.keywords:
        graph.add((node, DCAT.keyword, Literal(keyword)))
    period = BNode()
    graph.add((node, DCTERMS.temporal, period))
    graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
    for start, end in ((SCHEMA.startDate, SCHEMA.endDate), (DCAT.startDate, DCAT.endDate)):
        graph.add((period, start, Literal(days[0], datatype=XSD.date)))
        graph.add((period, end, Literal(days[-1], datatype=XSD.date)))
    graph.add((node, DCTERMS.spatial, TORINO_GEONAMES))
    if text.coverage in extents:
        place = BNode()
        graph.add((node, DCTERMS.spatial, place))
        graph.add((place, RDF.type, DCTERMS.Location))
        graph.add((place, DCAT.bbox, Literal(_wkt(extents[text.coverage]), datatype=GSP.wktLiteral)))
        graph.add((place, LOCN.geometry, Literal(_wkt(extents[text.coverage]), datatype=GSP.wktLiteral)))
    for key, entry in sorted(manifest["files"].items()):
        if entry["period"] and len(entry["period"]) == 4:  # yearly files
            _distribution(graph, node, f"{base}/dati/{dataset.name}/{entry['period']}.{entry['format']}", landing, entry,
                          {"it": f"Anno {entry['period']}, {entry['format'].upper()}", "en": f"Year {entry['period']}, {entry['format'].upper()}"})
    _distribution(graph, node, None, landing, {"format": "parquet", "modified": manifest.get("modified")},
                  {"it": "File giornalieri e mensili (Parquet e CSV), elencati nella pagina del dataset",
                   "en": "Daily and monthly files (Parquet and CSV), listed on the dataset's page"})
    return node


def _distribution(graph, dataset_node, download: str | None, landing: str, entry: Mapping, titles: Mapping[str, str]) -> None:
    node = URIRef(download or f"{landing}#files")
    fmt = entry["format"]
    graph.add((dataset_node, DCAT.distribution, node))
    graph.add((node, RDF.type, DCAT.Distribution))
    graph.add((node, RDF.type, DCATAPIT.Distribution))
    _texts(graph, node, DCTERMS.title, titles)
    graph.add((node, DCTERMS.format, URIRef(dataset_metadata.FILE_TYPE + fmt.upper())))
    graph.add((node, DCAT.mediaType, URIRef(MEDIA + layout.MEDIA_TYPES[fmt].split(";")[0])))
    graph.add((node, DCAT.accessURL, URIRef(landing)))
    licence = URIRef(dataset_metadata.LICENCE)
    graph.add((node, DCTERMS.license, licence))
    graph.add((licence, RDF.type, DCTERMS.LicenseDocument))
    graph.add((licence, RDF.type, DCATAPIT.LicenseDocument))
    graph.add((licence, DCTERMS.type, ADMS_LICENCE_TYPE))
    graph.add((licence, FOAF.name, Literal("Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)", lang="it")))
    graph.add((licence, FOAF.name, Literal("Creative Commons Attribution 4.0 International (CC BY 4.0)", lang="en")))
    if download:
        graph.add((node, DCAT.downloadURL, URIRef(download)))
        graph.add((node, DCAT.byteSize, Literal(entry["bytes"], datatype=XSD.nonNegativeInteger)))
        checksum = BNode()
        graph.add((node, SPDX.checksum, checksum))
        graph.add((checksum, RDF.type, SPDX.Checksum))
        graph.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        graph.add((checksum, SPDX.checksumValue, Literal(entry["sha256"], datatype=XSD.hexBinary)))
        graph.add((node, DCTERMS.modified, Literal(_local_date(entry["exported"]), datatype=XSD.date)))


def _agent(graph: Graph, texts: PortalText) -> URIRef:
    agent = TORINO_IPA
    graph.add((agent, RDF.type, FOAF.Organization))
    graph.add((agent, RDF.type, DCATAPIT.Agent))
    graph.add((agent, DCTERMS.identifier, Literal(dataset_metadata.TORINO["dct:identifier"])))
    _texts(graph, agent, FOAF.name, texts.publisher)
    return agent


def _contact(graph: Graph) -> URIRef:
    contact = URIRef(dataset_metadata.CONTACT["vcard:hasEmail"])
    node = URIRef("https://www.comune.torino.it/#opendata")
    graph.add((node, RDF.type, VCARD.Organization))
    graph.add((node, RDF.type, DCATAPIT.Organization))
    graph.add((node, VCARD.fn, Literal(dataset_metadata.CONTACT["vcard:fn"])))
    graph.add((node, VCARD.hasEmail, contact))
    return node


def _texts(graph: Graph, node, predicate, by_language: Mapping[str, str]) -> None:
    for language, value in by_language.items():
        graph.add((node, predicate, Literal(value, lang=language)))


def _wkt(bbox: tuple[float, float, float, float]) -> str:
    w, s, e, n = bbox
    return f"POLYGON(({w} {s},{e} {s},{e} {n},{w} {n},{w} {s}))"


def _local_date(rfc3339: str) -> date:
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).astimezone(ROME).date()
