"""Daily export of school_energy_daily (see iotorino/export/airflow_dags.py and dags/README.md)."""

from iotorino.export.airflow_dags import daily_export_dag

dag = daily_export_dag("school_energy_daily")
