"""JSON log lines on stdout, each carrying the trace context of the span it was written in."""

import json
import logging
import threading
from json.encoder import encode_basestring
from time import gmtime, strftime
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


# A JSON string literal, from the C encoder; non-ASCII is kept as is (the stream is UTF-8).
_quote = encode_basestring
_encoder = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":"))
# Keys the formatter writes itself; a record field of the same name takes the slow path.
_FIXED_KEYS = frozenset(
    {"timestamp", "level", "logger", "message", "service", "trace_id", "span_id"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, service, trace context.

    Then uvicorn's access fields, the record's extra fields and any exception. Built as a string
    around one encoder call for the variable part: formatting was the largest cost of a log line
    in the benchmark (benchmarks/README.md).
    """

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service
        self._service_field = ',"service":' + _quote(service)
        self._second: tuple[int, str] = (-1, "")

    def timestamp(self, created: float) -> str:
        """RFC 3339, UTC, milliseconds; the part up to the second is computed once a second."""
        second = int(created)
        cached = self._second
        if cached[0] != second:
            cached = self._second = (second, strftime("%Y-%m-%dT%H:%M:%S", gmtime(second)))
        return f"{cached[1]}.{int((created - second) * 1000):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        rest = {key: value for key, value in record.__dict__.items() if key not in _RECORD_FIELDS}
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            rest = {**_access_fields(record.args), **rest}
        if record.exc_info:
            rest["exception"] = self.formatException(record.exc_info)
        line = (
            '{"timestamp":"'
            + self.timestamp(record.created)
            + '","level":'
            + _quote(record.levelname)
            + ',"logger":'
            + _quote(record.name)
            + ',"message":'
            + _quote(record.getMessage())
            + self._service_field
        )
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            line += f',"trace_id":"{context.trace_id:032x}","span_id":"{context.span_id:016x}"'
        if not rest:
            return line + "}"
        if _FIXED_KEYS.isdisjoint(rest):
            return line + "," + _encoder.encode(rest)[1:]
        # A field named like one of ours replaces it: rare, so the plain way.
        return _encoder.encode({**json.loads(line + "}"), **rest})


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
        self._stopped = threading.Event()  # not _closed: logging.Handler.close() sets that to True
        self._interval = interval
        threading.Thread(target=self._flush_periodically, name="log-flush", daemon=True).start()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + self.terminator)
            if self._stopped.is_set():
                # Closed but still attached: logging.config.dictConfig closes every handler it
                # finds (Streamlit's uvicorn calls it after we set up), and nothing flushes now.
                self.flush()
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def _flush_periodically(self) -> None:
        while not self._stopped.wait(self._interval):
            self.flush()

    def close(self) -> None:
        self._stopped.set()
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
    _usage_logger.info(event, extra={"usage": True, "event": event, "attributes": attributes})
