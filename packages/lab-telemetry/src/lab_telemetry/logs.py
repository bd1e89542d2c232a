"""JSON log lines on stdout, each carrying the trace context of the span it was written in."""

import json
import logging
import threading
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


def _rfc3339(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, service, trace context."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": _rfc3339(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
        }
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            entry["trace_id"] = trace.format_trace_id(context.trace_id)
            entry["span_id"] = trace.format_span_id(context.span_id)
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            entry.update(_access_fields(record.args))
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


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


class BatchedStreamHandler(logging.StreamHandler):
    """A StreamHandler that flushes every `interval` seconds instead of after every line.

    One write syscall per line was the largest single cost of logging in the benchmark; batching
    keeps lines in order and whole, at most `interval` late. A daemon thread does the flushing,
    and logging.shutdown() (run at exit) flushes what is left.
    """

    def __init__(self, stream: Any, interval: float = 0.1) -> None:
        super().__init__(stream)
        self._closed = threading.Event()
        self._interval = interval
        threading.Thread(target=self._flush_periodically, name="log-flush", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + self.terminator)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def _flush_periodically(self) -> None:
        while not self._closed.wait(self._interval):
            self.flush()

    def close(self) -> None:
        self._closed.set()
        self.flush()
        super().close()


def _buffered(fd: int) -> Any:
    # A buffered stream of our own on the file descriptor, so PYTHONUNBUFFERED cannot turn every
    # line into a syscall again; closefd=False leaves sys.stdout usable.
    return open(fd, "w", buffering=1 << 16, encoding="utf-8", closefd=False)


def configure_logging(service: str, level: str = "INFO", fd: int = 1) -> None:
    """Send every logger, uvicorn's included, through one JSON handler on stdout (or `fd`).

    Idempotent: calling it again replaces the handler rather than adding a second one.
    """
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == _HANDLER_NAME:
            root.removeHandler(old)
            old.close()
    handler = BatchedStreamHandler(_buffered(fd))
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter(service))
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The logging HOWTO's "Optimization": skip collecting what the JSON line never shows
    # (caller frame, thread, process names).
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    # uvicorn adds its own handlers only when given a log_config; make sure its records reach root.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # The OTLP exporter logs a traceback per failed export; one line is enough.
    logging.getLogger("opentelemetry.exporter.otlp.proto.http").setLevel(logging.ERROR)


def log_usage(event: str, **attributes: Any) -> None:
    """Write a usage event: a log line with "usage": true that Alloy turns into a Loki label."""
    logging.getLogger(USAGE_LOGGER).info(
        event, extra={"usage": True, "event": event, "attributes": attributes}
    )
