"""Monthly per-school report (see iotorino/schools/airflow_reports.py)."""

from iotorino.schools.airflow_reports import monthly_report_dag

dag = monthly_report_dag()
