"""DAG factory for the monthly school reports (imported only by dags/school_reports_monthly.py).

One run per month at 06:00 local on the 1st, covering the month that just ended
(`catchup=False`: earlier months are written with the `month` param). The task
reads the exported daily KPIs and writes `reports/AAAA-MM/<school>.html` beside
the exports (`IOTORINO_EXPORT_DIR`, default var/exports); paths, not data, go
between tasks. No I/O at parse time.
"""

from __future__ import annotations

from datetime import datetime, timezone

from airflow.sdk import Param, dag, get_current_context, task
from airflow.timetables.interval import CronDataIntervalTimetable

MONTHLY_ON_THE_FIRST = CronDataIntervalTimetable("0 6 1 * *", timezone="Europe/Rome")


def report_month_from_context() -> tuple[int, int]:
    """The month a run reports: the `month` param (YYYY-MM) if given, else the data interval's local month."""
    from iotorino.export.window import local_date_of

    context = get_current_context()
    chosen = (context["params"].get("month") or "").strip()
    if chosen:
        year, month = chosen.split("-")
        return int(year), int(month)
    start = local_date_of(context["data_interval_start"])
    return start.year, start.month


def monthly_report_dag():
    """The DAG `school_reports_monthly`."""

    @dag(
        dag_id="school_reports_monthly",
        description="Monthly report per school (self-contained HTML, Italian first) from the daily school KPIs.",
        schedule=MONTHLY_ON_THE_FIRST,
        start_date=datetime(2024, 1, 1, tzinfo=timezone.utc),  # before it no run would execute its task
        catchup=False,
        max_active_runs=1,
        tags=["iotorino", "schools", "report"],
        params={"month": Param("", type="string", pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$",
                               description="Month to report (YYYY-MM); empty: the run's data interval.")},
    )
    def reports_dag():
        @task
        def write() -> dict:
            """Write every school's report for the month; returns the folder and the count."""
            from iotorino.export import expected, settings
            from iotorino.export.school_report import write_reports

            year, month = report_month_from_context()
            exports = settings.export_dir_from_env()
            paths = write_reports(exports, year, month, exports / "reports", expected.load_inventory())
            return {"month": f"{year:04d}-{month:02d}", "folder": str(paths[0].parent) if paths else "",
                    "reports": len(paths)}

        write()

    return reports_dag()
