"""Thin Celery tasks of the tracker: they take ids and call a service."""

from __future__ import annotations

import smtplib
from typing import Any

from celery import shared_task

# Errors a later attempt can get past: the mail server is down, slow or refusing for now.
RETRYABLE = (smtplib.SMTPException, OSError)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=RETRYABLE,
    max_retries=8,
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
)
def send_notification_email(self: Any, **kwargs: Any) -> bool:
    from crew import notifications

    return notifications.send_email(**kwargs)
