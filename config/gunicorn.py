"""gunicorn settings for the web container: `gunicorn -c python:config.gunicorn config.wsgi`.

Threads rather than more processes: requests mostly wait on the database, S3 and
slow clients sending upload chunks. Logs go to stdout/stderr like everything else.
"""

from __future__ import annotations

from config.env import envint

bind = "0.0.0.0:8000"
workers = envint("WEB_CONCURRENCY", 2)
worker_class = "gthread"
threads = envint("GUNICORN_THREADS", 4)
# An upload chunk from a slow phone connection may take a while.
timeout = envint("GUNICORN_TIMEOUT", 120)
graceful_timeout = 30
keepalive = 5
# The TLS proxy in front sets X-Forwarded-Proto; Django reads it (SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = "*"
accesslog = "-"
errorlog = "-"
# Heartbeat files on tmpfs: a slow container disk must not look like a hung worker.
worker_tmp_dir = "/dev/shm"  # noqa: S108 - tmpfs, private to the container
