from celery import shared_task

from alerts.services import alert_digest_send, project_alerts_send, project_alerts_sweep


@shared_task(ignore_result=True)
def send_project_alerts(project_id: int) -> None:
    project_alerts_send(project_id=project_id)


@shared_task(ignore_result=True)
def sweep_project_alerts() -> int:
    return project_alerts_sweep()


@shared_task(ignore_result=True)
def send_alert_digests() -> int:
    return alert_digest_send()
