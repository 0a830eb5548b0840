# mlfi: the watcher, the dashboard and the CLI in one image (state under /state).
FROM python:3.11-slim
WORKDIR /opt/mlfi
ENV PYTHONUNBUFFERED=1 MLFI_HOME=/state
COPY requirements.txt pyproject.toml README.md ./
RUN pip install --no-cache-dir -r requirements.txt
COPY app ./app
COPY ui ./ui
COPY knowledge ./knowledge
COPY data/samples ./data/samples
RUN pip install --no-cache-dir --no-deps -e .
# EXTRAS=postgres adds the PostgreSQL driver (docker/docker-compose.postgres.yml: several watchers)
ARG EXTRAS=""
RUN if [ -n "$EXTRAS" ]; then pip install --no-cache-dir -e ".[$EXTRAS]"; fi
VOLUME ["/state"]
EXPOSE 8501 9000
CMD ["mlfi", "dashboard", "--host", "0.0.0.0", "--port", "8501"]
