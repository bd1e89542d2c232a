"""The one call that wires telemetry into a FastAPI app or a plain process."""

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import trace
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from lab_telemetry.logs import configure_logging
from lab_telemetry.metrics import HttpMetrics, Metrics
from lab_telemetry.middleware import TelemetryMiddleware
from lab_telemetry.settings import TelemetrySettings
from lab_telemetry.tracing import build_tracer_provider, install_tracer_provider, instrument_httpx

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"


@dataclass
class Telemetry:
    service_name: str
    tracer_provider: TracerProvider
    tracer: trace.Tracer
    metrics: Metrics

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
    """JSON logs, tracing (exported when an OTLP endpoint is set) and httpx instrumentation.

    For a plain process (a CLI, a worker); `instrument_app` adds the HTTP parts on top.
    `span_processor` replaces the OTLP exporter, which is how tests collect spans in memory.
    A CLI whose stdout is its output logs to stderr instead (`log_fd=2`).
    """
    settings = settings or TelemetrySettings()
    name = settings.service_name or service_name
    configure_logging(name, log_level or settings.log_level, fd=log_fd)
    provider = build_tracer_provider(name, settings, span_processor)
    install_tracer_provider(provider)
    instrument_httpx()
    return Telemetry(
        service_name=name,
        tracer_provider=provider,
        tracer=provider.get_tracer("lab_telemetry"),
        metrics=Metrics(),
    )


def instrument_app(
    app: FastAPI,
    service_name: str,
    *,
    settings: TelemetrySettings | None = None,
    span_processor: SpanProcessor | None = None,
    health: Callable[[], str | None] | None = None,
) -> Telemetry:
    """Everything `setup_telemetry` does, plus a server span and HTTP metrics per request,
    `/metrics` (OpenMetrics when asked for) and `/healthz`, both kept out of traces and metrics.

    `health` returns why the app is not working, or None: `/healthz` then answers 503 with it.
    """
    telemetry = setup_telemetry(service_name, settings=settings, span_processor=span_processor)
    _disable_native_telemetry(app)
    app.add_middleware(
        TelemetryMiddleware,
        tracer=telemetry.tracer,
        http_metrics=HttpMetrics(telemetry.metrics),
        excluded_paths=(HEALTH_PATH, METRICS_PATH),
    )

    @app.get(METRICS_PATH, include_in_schema=False)
    def metrics(request: Request) -> Response:
        body, content_type = telemetry.metrics.render(request.headers.get("accept", ""))
        return Response(body, media_type=content_type)

    @app.get(HEALTH_PATH, include_in_schema=False)
    def healthz() -> JSONResponse:
        problem = health() if health else None
        if problem:
            return JSONResponse({"status": "unhealthy", "detail": problem}, status_code=503)
        return JSONResponse({"status": "ok"})

    app.state.telemetry = telemetry
    return telemetry


def _disable_native_telemetry(app: FastAPI) -> None:
    """Switch off FastAPI's own OpenTelemetry support for this app.

    Recent FastAPI traces natively as soon as a global tracer provider exists, which would give
    every request a second server span (and three operation spans) beside ours. Its config is only
    settable in the constructor, so it is updated in place here, in this one place.
    """
    config = getattr(app, "_telemetry", None)
    if isinstance(config, dict):
        config.update(tracing=False, metrics=False, logs=False, operation_spans=False)
