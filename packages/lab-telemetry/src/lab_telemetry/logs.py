"""JSON log lines, each carrying the trace context of the span it was written in.

Why it exists: Loki's pipeline (Alloy's `stage.json`) reads fields from JSON lines, and
traces <-> logs needs every line written inside a span to carry that span's `trace_id` and
`span_id`. A small plain formatter does it; python-json-logger was the library looked at, and it
would still need a subclass of about this size for the trace context, uvicorn's access fields and
the field order, so the dependency would buy nothing here. `log_usage` writes the lab's usage
events (`"usage": true`, which Alloy turns into a Loki label).
"""

import json
import logging
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace

# Attributes every LogRecord has; anything else on a record came from `extra=` and is kept
# (but uvicorn's color_message, the message again with terminal colour codes).
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
_HANDLER_NAME = "lab-telemetry-json"
USAGE_LOGGER = "usage"
_usage_logger = logging.getLogger(USAGE_LOGGER)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp (RFC 3339, UTC, ms), level, logger, message, service,
    the current span's trace_id and span_id, then uvicorn's access fields, the record's extra
    fields (one named like a field above replaces it) and any exception."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        created = datetime.fromtimestamp(record.created, UTC)
        fields: dict[str, Any] = {
            "timestamp": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            fields["trace_id"] = trace.format_trace_id(context.trace_id)
            fields["span_id"] = trace.format_span_id(context.span_id)
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            fields.update(_access_fields(record.args))
        fields.update((k, v) for k, v in record.__dict__.items() if k not in _RECORD_FIELDS)
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return json.dumps(fields, ensure_ascii=False, default=str, separators=(",", ":"))


def _access_fields(args: tuple[Any, ...]) -> dict[str, Any]:
    # uvicorn logs '%s - "%s %s HTTP/%s" %d' with these five arguments.
    if len(args) != 5:
        return {}
    client, method, path, http_version, status = args
    return {
        "client": client,
        "method": method,
        "path": path,
        "http_version": http_version,
        "status": status,
    }


def configure_logging(service: str, level: str = "INFO", fd: int = 1) -> None:
    """Send every logger, uvicorn's included, through one JSON handler on stdout (or `fd`).

    Idempotent: calling it again replaces the handler rather than adding a second one.
    """
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == _HANDLER_NAME:
            root.removeHandler(old)
            old.close()
    # A line-buffered stream of our own on the descriptor: whatever replaced sys.stdout (a test
    # runner's capture, Streamlit), the lines reach the process's stdout, one write each.
    stream = open(fd, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter(service))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # uvicorn adds its own handlers only when given a log_config; make sure its records reach root.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # With no collector, the OTLP exporter logs a WARNING per retry of a batch, then one ERROR
    # when it gives up: the ERROR is enough (tests/integration/test_missing_backends.py).
    logging.getLogger("opentelemetry.exporter.otlp.proto.http").setLevel(logging.ERROR)


def log_usage(event: str, **attributes: Any) -> None:
    """Write a usage event: a log line with "usage": true that Alloy turns into a Loki label."""
    _usage_logger.info(event, extra={"usage": True, "event": event, "attributes": attributes})
