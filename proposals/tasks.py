from celery import shared_task

from proposals.services import unread_digest_send


@shared_task(ignore_result=True)
def send_unread_digests() -> int:
    return unread_digest_send()
