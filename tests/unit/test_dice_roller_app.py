"""The dice-roller in-process: API behaviour, spans, logs and metrics."""

import json
import logging
import random
from collections.abc import Iterator

import pytest
from dice_roller.app import create_app
from dice_roller.settings import Settings
from fastapi.testclient import TestClient
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def client(spans: InMemorySpanExporter) -> Iterator[TestClient]:
    """The app as `opentelemetry-instrument` runs it: the distro's FastAPI instrumentation,
    here applied explicitly with a provider that keeps the spans in memory."""
    provider = TracerProvider(resource=Resource.create({"service.name": "dice-roller"}))
    provider.add_span_processor(SimpleSpanProcessor(spans))
    app = create_app(Settings(), rng=random.Random(1))
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls="healthz,metrics"
    )
    yield TestClient(app)
    FastAPIInstrumentor.uninstrument_app(app)


def server_spans(spans: InMemorySpanExporter) -> list:
    return [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]


def log_lines(capfd: pytest.CaptureFixture[str]) -> list[dict]:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return [json.loads(line) for line in capfd.readouterr().out.splitlines() if line]


def test_roll_returns_dice_rolls_modifier_and_total(client: TestClient) -> None:
    body = client.get("/roll/2d20+3").json()
    assert body["expression"] == "2d20+3"
    assert (body["count"], body["sides"], body["modifier"]) == (2, 20, 3)
    assert len(body["rolls"]) == 2
    assert all(1 <= value <= 20 for value in body["rolls"])
    assert body["total"] == sum(body["rolls"]) + 3


@pytest.mark.parametrize("bad", ["abc", "0d6", "3d1", "1000000d6", "3d6+"])
def test_bad_input_is_a_422_that_says_what_is_valid(client: TestClient, bad: str) -> None:
    response = client.get(f"/roll/{bad}")
    assert response.status_code == 422
    (error,) = response.json()["detail"]  # FastAPI's standard shape, our message
    assert error["loc"] == ["path", "dice"]
    assert "valid expression is NdM, NdM+K or NdM-K" in error["msg"]


def test_one_server_span_per_request_named_after_the_route(
    client: TestClient, spans: InMemorySpanExporter
) -> None:
    client.get("/roll/3d6?via=test")
    client.get("/roll/abc")
    finished = server_spans(spans)
    # One each: FastAPI's own tracing stood aside for the instrumentation's middleware.
    assert [s.name for s in finished] == ["GET /roll/{dice}", "GET /roll/{dice}"]
    ok, bad = finished
    assert ok.attributes["url.query"] == "via=test"
    assert ok.kind == SpanKind.SERVER
    assert ok.attributes["http.route"] == "/roll/{dice}"
    assert ok.attributes["http.request.method"] == "GET"
    assert ok.attributes["url.path"] == "/roll/3d6"
    assert ok.attributes["http.response.status_code"] == 200
    assert bad.attributes["http.response.status_code"] == 422
    assert bad.status.status_code != StatusCode.ERROR  # a client error is not a server error
    assert ok.resource.attributes["service.name"] == "dice-roller"


def test_health_and_metrics_are_kept_out_of_traces(
    client: TestClient, spans: InMemorySpanExporter
) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert spans.get_finished_spans() == ()


def test_log_lines_in_a_request_carry_its_trace_id(
    client: TestClient, spans: InMemorySpanExporter, capfd: pytest.CaptureFixture[str]
) -> None:
    log_lines(capfd)  # drop start-up lines
    client.get("/roll/3d6")
    (span,) = server_spans(spans)
    trace_id = format(span.context.trace_id, "032x")
    lines = log_lines(capfd)
    usage = [line for line in lines if line.get("usage")]
    assert len(usage) == 1
    assert usage[0]["trace_id"] == trace_id
    assert usage[0]["span_id"] == format(span.context.span_id, "016x")
    assert usage[0]["event"] == "roll"
    assert usage[0]["attributes"]["sides"] == 6
    for line in lines:
        assert {"timestamp", "level", "logger", "message", "service"} <= line.keys()
        assert line["service"] == "dice-roller"
        assert line["timestamp"].endswith("Z")


def test_metrics_have_http_histogram_custom_metric_and_exemplar(client: TestClient) -> None:
    client.get("/roll/3d6")
    client.get("/roll/2d20")
    text = client.get("/metrics").text
    assert 'http_request_duration_seconds_bucket{handler="/roll/{dice}"' in text
    assert 'dice_rolls_total{sides="6"} 1.0' in text
    assert 'dice_thrown_total{sides="20"} 2.0' in text
    assert "# {trace_id=" not in text  # the classic text format has no exemplars

    openmetrics = client.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert openmetrics.headers["content-type"].startswith("application/openmetrics-text")
    assert openmetrics.text.rstrip().endswith("# EOF")
    exemplars = [
        line
        for line in openmetrics.text.splitlines()
        if line.startswith("http_request_duration_seconds_bucket") and "# {trace_id=" in line
    ]
    assert exemplars, "no exemplar on the latency histogram"
