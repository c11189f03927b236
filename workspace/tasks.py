from celery import shared_task

from workspace.services import delivery


@shared_task(ignore_result=True)
def release_due_escrow() -> int:
    return delivery.release_due_escrow()


@shared_task(ignore_result=True)
def warn_before_auto_release() -> int:
    return delivery.warn_before_auto_release()


@shared_task(ignore_result=True)
def enforce_deadlines() -> dict:
    from workspace.services.clocks import enforce_deadlines as enforce

    return enforce()
