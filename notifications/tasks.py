from celery import shared_task

from notifications.services import email_deliver, email_send_due


@shared_task(ignore_result=True)
def deliver_email(email_id: int) -> None:
    email_deliver(email_id=email_id)


@shared_task(ignore_result=True)
def send_queued_emails() -> int:
    return email_send_due()
