# revteam: the web app (`revteam serve`) and the worker (`revteam worker`) from one image.
# Build: docker build -t revteam:latest .   Run both with PostgreSQL: docker compose up -d (compose.yaml).
# Production guide: docs/production.md.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN python -m venv /opt/revteam && /opt/revteam/bin/pip install .

FROM python:3.11-slim
# a system user without a login shell owns the process and its cache; the image never runs as root
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/revteam --create-home --shell /usr/sbin/nologin revteam \
 && install -d -o revteam -g revteam /var/lib/revteam-privacy
COPY --from=build /opt/revteam /opt/revteam
COPY LICENSE /usr/share/doc/revteam/LICENSE
ENV PATH=/opt/revteam/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    REVTEAM_ENV=production \
    REVTEAM_HOST=0.0.0.0 \
    REVTEAM_PORT=8000 \
    REVTEAM_RUN_WORKER_IN_SERVE=false \
    REVTEAM_SNAPSHOT_DIR=/var/lib/revteam/snapshots
WORKDIR /var/lib/revteam
USER revteam:revteam
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["revteam", "serve"]
