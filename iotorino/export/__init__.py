"""Open-data exports: the store's readings as correct, documented, re-runnable Parquet datasets.

`run_export(dataset, day, settings, out_dir)` exports one dataset for one local
day (Europe/Rome) without Airflow; the DAGs in `dags/` call the same function.

The published side — what the web portal and the static mirror read — is
public here too: the file layout (`periods`, `file_path`, `parse_period`),
provenance (`read_manifest`, `read_changelog`), the monthly and yearly files
(`refresh_rollups`), the portal texts (`portal_texts`) and the DCAT-AP_IT
catalogue (`catalogue_graph`, `catalogue_turtle`, `catalogue_jsonld`).
"""

from iotorino.export.run import ExportResult, run_export
from iotorino.export.datasets import registry
from iotorino.export.layout import MEDIA_TYPES, Period, days, file_path, parse_period, periods, relative_path
from iotorino.export.provenance import read_changelog, read_manifest
from iotorino.export.rollup import refresh as refresh_rollups
from iotorino.export.settings import export_dir_from_env, influx_from_env
from iotorino.export.texts import DatasetText, PortalText
from iotorino.export.texts import default as portal_texts


def catalogue_graph(out_dir, base_url: str, extents=None):
    """The DCAT-AP_IT catalogue (an rdflib Graph) of every registered dataset with files in `out_dir`."""
    from iotorino.export import catalog

    return catalog.catalogue_graph(out_dir, registry().values(), portal_texts(), base_url, extents or {})


def catalogue_turtle(graph) -> str:
    """The catalogue graph as Turtle."""
    from iotorino.export import catalog

    return catalog.turtle(graph)


def catalogue_jsonld(graph) -> str:
    """The catalogue graph as JSON-LD."""
    from iotorino.export import catalog

    return catalog.jsonld(graph)


__all__ = [
    "ExportResult", "run_export", "registry", "MEDIA_TYPES", "Period", "days", "file_path", "parse_period",
    "periods", "relative_path", "read_changelog", "read_manifest", "refresh_rollups", "DatasetText",
    "PortalText", "portal_texts", "export_dir_from_env", "influx_from_env", "catalogue_graph", "catalogue_turtle", "catalogue_jsonld",
]
