# The collector image: the pinned Python environment and this repository, with
# the collector's extra only (no Airflow, BLE or web packages).
FROM python:3.11-slim-bookworm
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY iotorino ./iotorino
COPY ingest ./ingest
COPY schemas ./schemas
COPY hardware ./hardware
RUN pip install --no-cache-dir -c constraints.txt -e '.[collector]'
ENV IOTORINO_HOME=/app
RUN mkdir -p /app/var && chown nobody /app/var
USER nobody
ENTRYPOINT []
