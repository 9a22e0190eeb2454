# syntax=docker/dockerfile:1
# One image for every Recoup service: `docker run IMAGE serve credit`, `... migrate`,
# `... sweep`. Without arguments it prints the CLI help (there is no default service).
FROM python:3.11-slim

# The uv version the team uses; it reads the committed uv.lock.
ARG UV_VERSION=0.13.9

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

# Fonts for the statement PDFs: DejaVu for Latin scripts, WenQuanYi Micro Hei for Chinese.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core fonts-wqy-microhei \
 && rm -rf /var/lib/apt/lists/*

RUN pip install "uv==${UV_VERSION}" \
 && groupadd --system --gid 10001 recoup \
 && useradd --system --uid 10001 --gid recoup --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin recoup

WORKDIR /app

# Dependencies first (exactly the locked versions, no dev group): this layer is rebuilt
# only when pyproject.toml or uv.lock change, not on every code change.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

# Then the code, and the project itself into the same environment.
COPY README.md ./
COPY recoup/ recoup/
COPY shared/ shared/
COPY services/ services/
RUN uv sync --frozen --no-dev \
 && mkdir -p /app/var \
 && chown recoup:recoup /app/var

ENV PATH="/app/.venv/bin:${PATH}" \
    RECOUP_HOST=0.0.0.0 \
    RECOUP_PORT=8000 \
    RECOUP_DATA_DIR=/app/var

# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 10001:10001

EXPOSE 8000

# Liveness only (the process answers); /readyz is the one that checks the database
# and the broker. slim has no curl, so Python does the GET.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('RECOUP_PORT', '8000'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"]

ENTRYPOINT ["recoup"]
CMD ["--help"]
