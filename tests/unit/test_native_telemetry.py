"""What FastAPI's own tracing, as lab-telemetry configures it, keeps of an app's behaviour."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from lab_telemetry import instrument_app, setup_telemetry
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind


class DependencyDown(Exception):
    pass


@pytest.fixture
def spans() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def client(spans: InMemorySpanExporter) -> Iterator[TestClient]:
    telemetry = setup_telemetry("native-test", span_processor=SimpleSpanProcessor(spans))
    app = FastAPI(telemetry=telemetry.fastapi)
    instrument_app(app, telemetry.metrics)

    @app.exception_handler(DependencyDown)
    async def dependency_down(_request, _exc: DependencyDown) -> JSONResponse:
        return JSONResponse({"detail": "try again"}, status_code=503)

    @app.get("/fails")
    async def fails() -> dict:
        raise DependencyDown

    sub = FastAPI()

    @sub.get("/ping")
    async def ping() -> dict:
        return {"pong": True}

    app.mount("/sub", sub)
    yield TestClient(app)


def servers(spans: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]


def test_the_apps_own_exception_handler_still_answers(client, spans) -> None:
    # Under the old hand-written middleware this 503 became a 500.
    response = client.get("/fails")
    assert (response.status_code, response.json()) == (503, {"detail": "try again"})
    (server,) = servers(spans)
    assert server.attributes["http.response.status_code"] == 503


def test_a_mounted_sub_app_has_one_server_span(client, spans) -> None:
    assert client.get("/sub/ping").json() == {"pong": True}
    (server,) = servers(spans)
    assert server.attributes["url.path"] == "/sub/ping"


def test_404_and_unknown_methods_are_named_as_the_http_conventions_say(client, spans) -> None:
    assert client.get("/nowhere").status_code == 404
    assert client.request("BREW", "/fails").status_code == 405
    not_found, unknown = servers(spans)
    assert not_found.name == "GET"  # no route matched: the method alone
    assert unknown.name == "HTTP /fails"
    assert unknown.attributes["http.request.method"] == "_OTHER"
    assert unknown.attributes["http.request.method_original"] == "BREW"


def test_health_and_metrics_are_neither_traced_nor_counted(client, spans) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200
    assert spans.get_finished_spans() == ()
    assert 'handler="/healthz"' not in client.get("/metrics").text
