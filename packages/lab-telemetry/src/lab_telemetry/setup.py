"""Telemetry for a process (`setup_telemetry`) and the parts FastAPI does not do (`instrument_app`).

Traces of a FastAPI app come from FastAPI itself: `FastAPI(telemetry=telemetry.fastapi)` gives
the server span of every request (stable HTTP attribute names, `url.query` included) and operation
spans for dependencies, the endpoint and serialization. This module adds what no maintained
library does for the lab: the providers from the environment with JSON logs, and the wiring of
prometheus-fastapi-instrumentator with exemplars, `/metrics` and `/healthz`.
"""

import sys
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from lab_telemetry.logs import configure_logging
from lab_telemetry.metrics import Metrics, instrument_http_metrics
from lab_telemetry.serve import load_settings
from lab_telemetry.settings import TelemetrySettings
from lab_telemetry.tracing import build_tracer_provider, install_tracer_provider, instrument_httpx

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
NOT_OBSERVED = (HEALTH_PATH, METRICS_PATH)


def _not_observed(scope: MutableMapping[str, Any]) -> bool:
    return scope.get("path") in NOT_OBSERVED


@dataclass
class Telemetry:
    service_name: str
    tracer_provider: TracerProvider
    tracer: trace.Tracer
    metrics: Metrics
    # The Pyroscope agent runs (PYROSCOPE_SERVER_ADDRESS set): lab_telemetry.profiling.
    profiling: bool = False

    @property
    def fastapi(self) -> TelemetryConfig:
        """`FastAPI(telemetry=...)`: server and operation spans on this provider.

        /healthz and /metrics are left out; FastAPI's OpenTelemetry metrics and logs stay off,
        since the lab's metrics are Prometheus ones (instrument_app) and its logs JSON lines.
        Operation spans have a cost (benchmarks/README.md):
        `{**telemetry.fastapi, "operation_spans": False}` turns them off.
        """
        return {
            "tracer_provider": self.tracer_provider,
            "exclude": _not_observed,
            "metrics": False,
            "logs": False,
        }

    def shutdown(self) -> None:
        """Flush spans still queued for export (call on process exit)."""
        self.tracer_provider.shutdown()


def setup_telemetry(
    service_name: str,
    *,
    settings: TelemetrySettings | None = None,
    span_processor: SpanProcessor | None = None,
    log_level: str | None = None,
    log_fd: int = 1,
) -> Telemetry:
    """JSON logs, tracing (exported when an OTLP endpoint is set), httpx instrumentation, and
    profiling when PYROSCOPE_SERVER_ADDRESS is set (its samples tied to spans when tracing is on
    too: lab_telemetry.profiling).

    `span_processor` replaces the OTLP exporter, which is how tests collect spans in memory.
    A CLI whose stdout is its output logs to stderr instead (`log_fd=2`). A bad setting in the
    environment is one line on stderr and exit status 2 (serve.load_settings).
    """
    settings = settings or load_settings(TelemetrySettings, Path(sys.argv[0]).name)
    name = settings.service_name or service_name
    configure_logging(name, log_level or settings.log_level, fd=log_fd)
    provider = build_tracer_provider(name, settings, span_processor)
    install_tracer_provider(provider)
    instrument_httpx()
    profiling = False
    if settings.profiling_enabled:
        # Imported only here: without an address no profiler module is loaded at all.
        from lab_telemetry import profiling as pyroscope_agent

        profiling = pyroscope_agent.start_profiling(settings, provider.resource)
        if settings.export_enabled or span_processor is not None:
            pyroscope_agent.link_spans(provider)
    return Telemetry(
        service_name=name,
        tracer_provider=provider,
        tracer=provider.get_tracer("lab_telemetry"),
        metrics=Metrics(),
        profiling=profiling,
    )


def instrument_app(
    app: FastAPI, metrics: Metrics, *, health: Callable[[], str | None] | None = None
) -> None:
    """HTTP metrics by route template (with trace_id exemplars), `/metrics` and `/healthz`.

    Both paths are kept out of the metrics, as `Telemetry.fastapi` keeps them out of traces.
    `/metrics` answers in OpenMetrics when the scraper asks for it (exemplars exist only there;
    the instrumentator's own `expose()` serves the text format only).
    `health` returns why the app is not working, or None: `/healthz` then answers 503 with it.
    """
    instrument_http_metrics(app, metrics, excluded=NOT_OBSERVED)

    @app.get(METRICS_PATH, include_in_schema=False)
    def serve_metrics(request: Request) -> Response:
        body, content_type = metrics.render(request.headers.get("accept", ""))
        return Response(body, media_type=content_type)

    @app.get(HEALTH_PATH, include_in_schema=False)
    def healthz() -> JSONResponse:
        problem = health() if health else None
        if problem:
            return JSONResponse({"status": "unhealthy", "detail": problem}, status_code=503)
        return JSONResponse({"status": "ok"})
