"""Background work for requests: thin tasks that call services and are safe to run twice."""
from celery import shared_task

from . import services


@shared_task
def expire_claims() -> dict:
    """Periodic (Celery beat): remind quiet claimants, release claims still quiet after the reminder."""
    return services.claims_expire()


@shared_task(autoretry_for=(OSError,), retry_backoff=30, max_retries=5, acks_late=True)
def build_export(*, bundle_id: int) -> bool:
    """Build a large export bundle while its requester waits (progress is on the bundle's row)."""
    return services.export_build(bundle_id=bundle_id)


@shared_task
def build_stalled_exports() -> int:
    """Periodic (Celery beat): queue again the bundles a crashed worker left unbuilt."""
    from licensing import services as licensing_services

    stalled = licensing_services.bundles_stalled()
    for bundle_id in stalled:
        build_export.delay(bundle_id=bundle_id)
    return len(stalled)
