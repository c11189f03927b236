from celery import shared_task

from escrow.reconciliation import payments_reconcile


@shared_task(ignore_result=True)
def reconcile_payments() -> str:
    return str(payments_reconcile())
