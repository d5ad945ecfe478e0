"""Monthly and yearly open-data files from the daily partitions (see iotorino/export/airflow_rollup.py)."""

from iotorino.export.airflow_rollup import rollup_dag

dag = rollup_dag()
