"""The alert-receiver: POST /alerts takes Alertmanager's webhook and logs each alert in it.

One JSON line per alert, WARNING while it fires and INFO once resolved, with the alert's name,
status, labels and annotations as fields: Alloy ships them to Loki beside the services' own
lines, so a learner finds the alert and the log lines that explain it in one place.
"""

import logging

from fastapi import FastAPI
from lab_telemetry import instrument_app, load_settings, serve, setup_telemetry
from pydantic import BaseModel

from alert_receiver.settings import ReceiverSettings
from alert_receiver.webhook import Alert, Notification

SERVICE_NAME = "alert-receiver"
logger = logging.getLogger(__name__)


class Received(BaseModel):
    alerts: int


def log_alert(alert: Alert, receiver: str) -> None:
    name = alert.labels.get("alertname", "unnamed alert")
    what = alert.annotations.get("summary", "")
    logger.log(
        logging.WARNING if alert.status == "firing" else logging.INFO,
        f"{alert.status}: {name}" + (f": {what}" if what else ""),
        extra={
            "alertname": name,
            "alert_status": alert.status,
            "severity": alert.labels.get("severity", ""),
            "labels": alert.labels,
            "annotations": alert.annotations,
            "starts_at": alert.startsAt.isoformat(),
            "fingerprint": alert.fingerprint,
            "receiver": receiver,
        },
    )


def create_app() -> FastAPI:
    telemetry = setup_telemetry(SERVICE_NAME)
    app = FastAPI(title="alert-receiver", telemetry=telemetry.fastapi)
    instrument_app(app, telemetry.metrics)
    received = telemetry.metrics.counter(
        "alert_receiver_alerts_total",
        "Alerts received from Alertmanager, by alert name and status.",
        ("alertname", "status"),
    )

    @app.post("/alerts", responses={400: {"description": "The body is not JSON."}})
    async def alerts(notification: Notification) -> Received:
        for alert in notification.alerts:
            log_alert(alert, notification.receiver)
            received.labels(alert.labels.get("alertname", ""), alert.status).inc()
        if notification.truncatedAlerts:
            logger.warning(
                f"Alertmanager left out {notification.truncatedAlerts} alerts of this group",
                extra={"receiver": notification.receiver},
            )
        return Received(alerts=len(notification.alerts))

    return app


def main() -> None:
    settings = load_settings(ReceiverSettings, "alert-receiver")
    serve(create_app(), settings.host, settings.port)
