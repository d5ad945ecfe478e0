"""School energy and classroom air: the calendar, day types and the KPIs the school dashboards show.

Pure functions over hourly data (definitions in docs/schools.md); the store,
the web pages and the DAGs call them and pass the data in.
"""
