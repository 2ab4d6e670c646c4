# One image for every service of docker-compose.yml (built once, by its `init` service).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY licensing ./licensing
COPY projections ./projections
COPY api ./api
RUN pip install --no-cache-dir .

# An unprivileged user with a fixed id (a host folder mounted at /data must belong to it).
# /data exists here, owned by it and private (0700), so that a fresh named
# volume mounted there starts with that owner and mode.
RUN groupadd --system --gid 10001 zzt \
    && useradd --system --uid 10001 --gid zzt --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin zzt \
    && install -d -o zzt -g zzt -m 0700 /data
USER zzt:zzt

ENV LICENSING_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000
CMD ["licensing", "serve", "--host", "0.0.0.0", "--port", "8000"]
