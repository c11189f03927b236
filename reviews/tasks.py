from celery import shared_task

from reviews.services import reviews_publish_due


@shared_task(ignore_result=True)
def publish_due_reviews() -> int:
    return reviews_publish_due()
