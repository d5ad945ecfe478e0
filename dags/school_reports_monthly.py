"""Monthly per-school report (see iotorino/export/airflow_school_reports.py)."""

from iotorino.export.airflow_school_reports import monthly_report_dag

dag = monthly_report_dag()
