# The iotorino image: collectors, monitor, exports and Airflow's components all run from it.
# EXTRAS chooses the components it carries: the collectors' services build it with
# EXTRAS=collector,production (no Airflow, BLE or web packages).
# The pinned Python environment and this repository; runs as an unprivileged user (uid 10001)
# and works on a read-only root file system (state only in the mounted volumes).
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY iotorino ./iotorino
COPY ingest ./ingest
COPY schemas ./schemas
COPY hardware ./hardware
COPY dags ./dags
ARG EXTRAS=all,production
RUN pip install --no-cache-dir -c constraints.txt -e ".[${EXTRAS}]" \
    && useradd --system --uid 10001 --home-dir /var/lib/iotorino --create-home iotorino
COPY deploy/entrypoint.sh /usr/local/bin/iotorino-entrypoint
ENV IOTORINO_HOME=/app PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
ENTRYPOINT ["/usr/local/bin/iotorino-entrypoint"]
CMD ["iotorino", "--help"]
