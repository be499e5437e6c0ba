# The Dorami web image: web (uvicorn ASGI), Celery worker/beat and the restream runner.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# ffmpeg: restreaming. postgresql-client-16 (PGDG, matching the postgres:16 service):
# pg_dump/pg_restore for `manage.py backup` / `restore`.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl ffmpeg; \
    install -d /usr/share/postgresql-common/pgdg; \
    curl -fsSL https://www.postgresql.org/media/keys/ACCC4CF8.asc \
        -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc; \
    . /etc/os-release; \
    echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
        > /etc/apt/sources.list.d/pgdg.list; \
    apt-get update; \
    apt-get install -y --no-install-recommends postgresql-client-16; \
    rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Static files and translations are built into the image. Settings refuse to start without
# these values when DEBUG is off, so the build passes throwaway ones (never used at run time).
RUN DEBUG=0 \
    SECRET_KEY=collectstatic-build-only \
    PROFILE_ENCRYPTION_KEY=0000000000000000000000000000000000000000000000000000000000000000 \
    ALLOWED_HOSTS=build.invalid \
    MEDIA_WEBHOOK_SECRET=collectstatic-build-only \
    sh -c "python manage.py compile_translations && python manage.py collectstatic --noinput -v 0"

RUN useradd --create-home --uid 1000 --shell /usr/sbin/nologin dorami \
    && mkdir -p /data/media /data/hls /data/backups \
    && chown -R dorami:dorami /app /data
USER dorami

EXPOSE 8000
# uvicorn (manage.py serve) and Celery both shut down gracefully on SIGTERM.
STOPSIGNAL SIGTERM
CMD ["python", "manage.py", "serve", "--host", "0.0.0.0", "--port", "8000"]
