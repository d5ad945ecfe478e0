"""DAG factory for the monthly and yearly open-data files (`open_data_rollups`).

Imported only by `dags/open_data_rollups.py`. Runs every day at 04:00 local
time, after the daily exports of local midnight: one mapped task per dataset
calls `iotorino.export.rollup.refresh`, which rebuilds exactly the months and
years whose days changed (new days, late-data re-exports) and leaves the rest
alone, so a run with nothing new writes nothing. `catchup=False`: each run
looks at every published day, so a missed run is caught up by the next one.
No I/O at parse time: the export directory is read when the task runs.
"""

from __future__ import annotations

from airflow.sdk import dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from iotorino.export.airflow_dags import START_DATE

DAILY_AFTER_EXPORTS = CronDataIntervalTimetable("0 4 * * *", timezone="Europe/Rome")


def rollup_dag():
    """The DAG `open_data_rollups`: refresh every dataset's monthly and yearly files."""

    @dag(
        dag_id="open_data_rollups",
        description="Monthly and yearly Parquet/CSV files from the daily partitions, rebuilt when a day inside changes.",
        schedule=DAILY_AFTER_EXPORTS,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=["iotorino", "export", "open-data"],
    )
    def rollups():
        @task
        def datasets() -> list[str]:
            """The registered dataset ids."""
            from iotorino.export import registry

            return list(registry())

        @task
        def refresh(dataset: str) -> dict:
            """Rebuild the dataset's changed months and years; returns the files written (paths, not data)."""
            from iotorino.export import settings
            from iotorino.export.rollup import refresh as refresh_files

            written = refresh_files(settings.export_dir_from_env(), dataset)
            return {"dataset": dataset, "written": [str(p) for p in written]}

        refresh.expand(dataset=datasets())

    return rollups()
