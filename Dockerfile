# Kadr: one image for web (gunicorn), worker and beat (Celery); see docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    KADR_VAR_DIR=/var/lib/kadr \
    STATIC_ROOT=/app/staticfiles

# Debian's ffmpeg (5.1 on bookworm) for probing and transcoding; gettext to compile
# the translations below.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg gettext \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 kadr \
    && useradd --system --uid 10001 --gid kadr --home-dir /var/lib/kadr --shell /usr/sbin/nologin kadr \
    && install -d -o kadr -g kadr /var/lib/kadr

WORKDIR /app

# Dependencies first (only pyproject.toml), so a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .

# Static files are collected (and compressed by whitenoise) at build time; the
# translations are compiled. Neither needs a database or a real secret.
RUN DEBUG=0 SECRET_KEY=build-only-not-secret KADR_VAR_DIR=/tmp/kadr-build \
        python manage.py collectstatic --noinput \
    && DEBUG=0 SECRET_KEY=build-only-not-secret KADR_VAR_DIR=/tmp/kadr-build \
        python manage.py compilemessages --ignore '.venv/*' \
    && rm -rf /tmp/kadr-build

USER kadr
VOLUME ["/var/lib/kadr"]
EXPOSE 8000

# The web container; docker-compose.yml runs the worker and beat from the same image.
CMD ["sh", "-c", "python manage.py migrate --noinput && exec gunicorn -c python:config.gunicorn config.wsgi"]
