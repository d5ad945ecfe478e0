"""The DCAT-AP_IT catalogue: passes the SHACL shapes, fails them when broken, round-trips through rdflib."""

from __future__ import annotations

from datetime import date

import pytest
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, RDF

from iotorino.core import paths
from iotorino.export import catalogue_graph, catalogue_jsonld, catalogue_turtle, read_manifest, refresh_rollups
from tests.export.published import DATASET, publish_day

BASE = "https://dati.example.it"
DCATAPIT = "http://dati.gov.it/onto/dcatapit#"


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    out = tmp_path_factory.mktemp("catalogue")
    for day in (date(2026, 1, 30), date(2026, 1, 31)):
        publish_day(out, day)
    refresh_rollups(out, DATASET)
    return out


@pytest.fixture(scope="module")
def shapes():
    return Graph().parse(paths.SCHEMAS / "dcat-ap_it.shapes.ttl")


def conforms(graph, shapes) -> tuple[bool, str]:
    ok, _, text = validate(graph, shacl_graph=shapes, inference="none", advanced=True)
    return ok, text


def test_catalogue_conforms_and_lists_the_published_dataset_with_its_files(exports, shapes):
    graph = catalogue_graph(exports, BASE, {"street": (7.6, 45.0, 7.7, 45.1)})
    ok, report = conforms(graph, shapes)
    assert ok, report
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert datasets == {URIRef(f"{BASE}/dati/{DATASET}")}  # only datasets with published files
    dataset = next(iter(datasets))
    titles = {t.language: str(t) for t in graph.objects(dataset, DCTERMS.title)}
    assert set(titles) == {"it", "en"} and "qualità dell'aria" in titles["it"]
    downloads = {str(o) for d in graph.objects(dataset, DCAT.distribution) for o in graph.objects(d, DCAT.downloadURL)}
    assert downloads == {f"{BASE}/dati/{DATASET}/2026.parquet", f"{BASE}/dati/{DATASET}/2026.csv"}
    modified = read_manifest(exports, DATASET)["modified"][:10]
    assert graph.value(dataset, DCTERMS.modified) == Literal(date.fromisoformat(modified))
    catalog = next(graph.subjects(RDF.type, DCAT.Catalog))
    assert (catalog, DCAT.dataset, dataset) in graph


@pytest.mark.parametrize("broken", ["no_title", "no_licence", "english_only", "bad_theme"])
def test_a_broken_catalogue_fails_the_shapes(exports, shapes, broken):
    graph = catalogue_graph(exports, BASE)
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    if broken == "no_title":
        graph.remove((dataset, DCTERMS.title, None))
    elif broken == "no_licence":
        for distribution in graph.objects(dataset, DCAT.distribution):
            graph.remove((distribution, DCTERMS.license, None))
    elif broken == "english_only":
        for title in list(graph.objects(dataset, DCTERMS.title)):
            if title.language == "it":
                graph.remove((dataset, DCTERMS.title, title))
    else:
        graph.set((dataset, DCAT.theme, URIRef("http://example.org/theme/WEATHER")))
    ok, report = conforms(graph, shapes)
    assert not ok
    assert "Constraint Violation" in report


def test_turtle_and_jsonld_round_trip_to_the_same_graph(exports):
    graph = catalogue_graph(exports, BASE)
    from_turtle = Graph().parse(data=catalogue_turtle(graph), format="turtle")
    from_jsonld = Graph().parse(data=catalogue_jsonld(graph), format="json-ld")
    assert isomorphic(graph, from_turtle) and isomorphic(graph, from_jsonld)
    assert len(graph) > 60


def test_shaped_for_ckan_harvesting(exports):
    """What ckanext-dcat's profiles read: typed dataset, identifier, language-tagged texts, distributions with URLs, format, licence."""
    graph = catalogue_graph(exports, BASE)
    for dataset in graph.subjects(RDF.type, DCAT.Dataset):
        assert (dataset, RDF.type, URIRef(DCATAPIT + "Dataset")) in graph
        assert graph.value(dataset, DCTERMS.identifier)
        for distribution in graph.objects(dataset, DCAT.distribution):
            assert graph.value(distribution, DCAT.accessURL)
            assert str(graph.value(distribution, DCAT.mediaType)).startswith("http://www.iana.org/assignments/media-types/")
            licence = graph.value(distribution, DCTERMS.license)
            assert (licence, RDF.type, DCTERMS.LicenseDocument) in graph
