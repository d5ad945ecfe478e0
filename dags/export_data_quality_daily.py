"""Daily data-quality report (see iotorino/export/quality.py and dags/README.md); its summary goes to the task log."""

from iotorino.export.airflow_dags import daily_export_dag

dag = daily_export_dag("data_quality_daily")
