"""lab-telemetry's log lines: one JSON object each, fields a user's log queries depend on."""

import json
import logging
import re
import sys

import pytest
from lab_telemetry import JsonFormatter
from opentelemetry.sdk.trace import TracerProvider

RFC3339_MS_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def record(name: str, message: str, args: tuple | None = None, **extra) -> logging.LogRecord:
    logger = logging.getLogger(name)
    return logger.makeRecord(name, logging.INFO, __file__, 1, message, args, None, extra=extra)


def test_fixed_fields_and_extra_fields() -> None:
    line = JsonFormatter("dice-roller").format(
        record("usage", "roll", usage=True, event="roll", attributes={"sides": 6, "ü": "ß\n"})
    )
    assert json.loads(line) == {
        "timestamp": json.loads(line)["timestamp"],
        "level": "INFO",
        "logger": "usage",
        "message": "roll",
        "service": "dice-roller",
        "usage": True,
        "event": "roll",
        "attributes": {"sides": 6, "ü": "ß\n"},
    }
    assert RFC3339_MS_UTC.fullmatch(json.loads(line)["timestamp"])
    assert "\n" not in line


def test_uvicorn_access_line_has_its_fields() -> None:
    args = ("127.0.0.1:5000", "GET", '/roll/3d6?x="y"', "1.1", 200)
    line = json.loads(
        JsonFormatter("dice-roller").format(
            record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', args)
        )
    )
    assert line["message"] == '127.0.0.1:5000 - "GET /roll/3d6?x="y" HTTP/1.1" 200'
    assert (line["client"], line["method"], line["path"], line["status"]) == (
        "127.0.0.1:5000",
        "GET",
        '/roll/3d6?x="y"',
        200,
    )


def test_trace_context_of_the_current_span() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        line = json.loads(JsonFormatter("svc").format(record("app", "inside")))
    context = span.get_span_context()
    assert line["trace_id"] == f"{context.trace_id:032x}"
    assert line["span_id"] == f"{context.span_id:016x}"
    assert "trace_id" not in json.loads(JsonFormatter("svc").format(record("app", "outside")))


def test_a_field_named_like_a_fixed_one_replaces_it_once() -> None:
    line = JsonFormatter("svc").format(record("app", "m", service="other", thing=object()))
    assert line.count('"service"') == 1
    assert json.loads(line)["service"] == "other"
    assert json.loads(line)["thing"].startswith("<object object")


def test_exception_is_one_field() -> None:
    try:
        raise ValueError("bad input")
    except ValueError:
        entry = logging.getLogger("app").makeRecord(
            "app", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    line = json.loads(JsonFormatter("svc").format(entry))
    assert line["level"] == "ERROR"
    assert "ValueError: bad input" in line["exception"]


@pytest.mark.parametrize(
    ("created", "timestamp"),
    [
        (0.001, "1970-01-01T00:00:00.001Z"),
        (1764104400.25, "2025-11-25T21:00:00.250Z"),
        (1764104401.0, "2025-11-25T21:00:01.000Z"),
    ],
)
def test_timestamp_is_utc_with_milliseconds(created: float, timestamp: str) -> None:
    entry = record("app", "at a time")
    entry.created = created
    assert json.loads(JsonFormatter("svc").format(entry))["timestamp"] == timestamp


def test_lines_still_arrive_after_dictconfig_closes_the_handler(tmp_path) -> None:
    # Streamlit starts uvicorn, whose logging.config.dictConfig closes every existing handler:
    # the handler, still on the root logger, used to drop every line after that, silently.
    import logging.config
    import os

    from lab_telemetry.logs import configure_logging

    path = tmp_path / "out.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        configure_logging("frontend", fd=fd)
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
        logging.getLogger("after.dictconfig").warning("still here")
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert [line["message"] for line in lines] == ["still here"]
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
        root.handlers[:], root.level = saved
        os.close(fd)
