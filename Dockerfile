# The platform's image: one image for the web server, the Celery workers, beat and the
# one-off commands (migrate_schemas, tenant_export...). docs/deployment.md says how it runs.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MEDIA_ROOT=/var/lib/ciam/media \
    PROMETHEUS_MULTIPROC_DIR=/run/ciam/prometheus

# pg_dump renders the tenant template (migrate_schemas) and exports tenants; its major
# version must be the server's or newer: bookworm's is 15, the PostgreSQL of compose.yaml.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
RUN pip install --require-hashes -r requirements.txt

COPY . .
RUN useradd --system --uid 10001 --home-dir /app ciam \
    && mkdir -p /var/lib/ciam/media /run/ciam/prometheus /app/.data \
    && chown -R ciam /var/lib/ciam /run/ciam /app/.data
USER ciam

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# gunicorn.conf.py (read from /app): gthread workers, 4 threads each, JSON-ready logger.
CMD ["gunicorn", "ciam.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-"]
