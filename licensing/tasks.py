"""Background license checks: thin tasks that call services and are safe to run twice."""
from celery import shared_task

from . import services


@shared_task(autoretry_for=(Exception,), retry_backoff=10, retry_backoff_max=600, max_retries=10, acks_late=True)
def check_license(*, item_id: int) -> str:
    """Check one licensed item against the policy (holds, releases, notifies its author)."""
    return services.item_check(item_id=item_id)


@shared_task
def check_pending_licenses() -> int:
    """Periodic (Celery beat): queue again the checks a crashed worker or a lost message left undone."""
    pending = services.items_unchecked()
    for item_id in pending:
        check_license.delay(item_id=item_id)
    return len(pending)
