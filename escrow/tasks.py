from celery import shared_task

from escrow import contracts


@shared_task(ignore_result=True)
def release_due_escrow() -> int:
    return contracts.release_due_escrow()


@shared_task(ignore_result=True)
def warn_before_auto_release() -> int:
    return contracts.warn_before_auto_release()
