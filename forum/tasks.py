"""Forum background tasks: thin, load by id, call a service, safe to run twice."""
import smtplib

from celery import shared_task

from . import services


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=3600,
    max_retries=8,
)
def send_welcome_email(*, user_id: int) -> bool:
    return services.welcome_email_send(user_id=user_id)
