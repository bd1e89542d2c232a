"""Alertmanager's webhook body (version 4), as `notify/webhook/webhook.go` and
`template/template.go` define it at v0.34.0; Debian's 0.25 sends the same minus the two fields
newer versions added (`notification_reason`, `routeLabels`), so those are optional here.

Written here: `prometheus-alert-model` on PyPI (trallnag, 1.0.0 of December 2020) has these
models, but requires pydantic < 2 and has not been released since; nothing maintained replaces it.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

# Label names and values as Prometheus allows them, bounded so a body cannot fill the log.
Name = Annotated[str, Field(max_length=200)]
Value = Annotated[str, Field(max_length=2000)]
Labels = Annotated[dict[Name, Value], Field(max_length=100)]
Status = Literal["firing", "resolved"]


def _rfc3339_string(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("a time is an RFC 3339 string, e.g. 2026-11-26T14:02:00Z")
    return value


# Strict models see parsed JSON (FastAPI validates Python objects), where strict datetime would
# refuse every string: this one takes Alertmanager's strings and refuses bare numbers.
Timestamp = Annotated[datetime, Field(strict=False), BeforeValidator(_rfc3339_string)]


class Alert(BaseModel):
    # Field names as Alertmanager writes them (camelCase), so the models read like its docs.
    # Strict: `true` is not a label value, 1.0 not a count.
    model_config = ConfigDict(strict=True)
    status: Status
    labels: Labels
    annotations: Labels = {}
    startsAt: Timestamp
    endsAt: Timestamp
    generatorURL: str = Field(default="", max_length=2000)
    fingerprint: str = Field(default="", max_length=64)


class Notification(BaseModel):
    model_config = ConfigDict(strict=True)
    version: Literal["4"]
    status: Status
    receiver: str = Field(max_length=200)
    groupKey: str = Field(default="", max_length=2000)
    truncatedAlerts: int = Field(default=0, ge=0)
    alerts: list[Alert] = Field(max_length=1000)
    groupLabels: Labels = {}
    commonLabels: Labels = {}
    commonAnnotations: Labels = {}
    externalURL: str = Field(default="", max_length=2000)
