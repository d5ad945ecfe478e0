"""Open-data exports: the store's readings as correct, documented, re-runnable Parquet datasets.

`run_export(dataset, day, settings, out_dir)` exports one dataset for one local
day (Europe/Rome) without Airflow; the DAGs in `dags/` call the same function.
"""

from iotorino.export.run import ExportResult, run_export
from iotorino.export.datasets import registry

__all__ = ["ExportResult", "run_export", "registry"]
