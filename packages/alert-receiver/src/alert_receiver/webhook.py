"""Alertmanager's webhook body (version 4), as `notify/webhook/webhook.go` and
`template/template.go` define it at v0.34.0. Fields this receiver does not use are ignored, so
Debian's 0.25 (without `notification_reason` and `routeLabels`) and later versions both fit.

Written here: `prometheus-alert-model` on PyPI (trallnag, 1.0.0 of December 2020) has these
models, but requires pydantic < 2 and has not been released since; nothing maintained replaces it.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

# Label names and values as Prometheus allows them, bounded so a body cannot fill the log.
Name = Annotated[str, Field(max_length=100)]
Value = Annotated[str, Field(max_length=500)]
Labels = Annotated[dict[Name, Value], Field(max_length=30)]
Status = Literal["firing", "resolved"]


def _rfc3339_string(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("a time is an RFC 3339 string, e.g. 2026-11-26T14:02:00Z")
    return value


def _not_a_boolean(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("a count is a number, not true or false")
    return value


Count = Annotated[int, Field(ge=0), BeforeValidator(_not_a_boolean)]
# Pydantic reads a bare number as seconds since 1970; Alertmanager always sends a string. (Not
# strict=True: FastAPI validates the parsed JSON, where a strict datetime refuses every string.)
Timestamp = Annotated[datetime, BeforeValidator(_rfc3339_string)]


class Alert(BaseModel):
    # Field names as Alertmanager writes them (camelCase), so the models read like its docs.
    status: Status
    labels: Labels
    annotations: Labels = {}
    startsAt: Timestamp
    endsAt: Timestamp
    generatorURL: str = Field(default="", max_length=2000)
    fingerprint: str = Field(default="", max_length=64)


class Notification(BaseModel):
    version: Literal["4"]
    status: Status
    receiver: str = Field(max_length=200)
    groupKey: str = Field(default="", max_length=2000)
    truncatedAlerts: Count = 0
    alerts: list[Alert] = Field(max_length=50)
    groupLabels: Labels = {}
    commonLabels: Labels = {}
    commonAnnotations: Labels = {}
    externalURL: str = Field(default="", max_length=2000)
