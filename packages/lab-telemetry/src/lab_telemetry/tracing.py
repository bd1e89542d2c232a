"""The tracer provider from the environment, and httpx instrumented.

What opentelemetry-distro would do for a zero-code app, as three visible calls for the apps that
configure themselves: the SDK's TracerProvider with a resource from OTEL_SERVICE_NAME and
OTEL_RESOURCE_ATTRIBUTES, and the SDK's OTLP/HTTP exporter, configured by the OTEL_EXPORTER_OTLP_*
variables, only when an endpoint is set (so a run without a collector prints no export errors).
"""

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from lab_telemetry.settings import TelemetrySettings


def build_tracer_provider(
    service_name: str,
    settings: TelemetrySettings,
    span_processor: SpanProcessor | None = None,
) -> TracerProvider:
    """A provider whose resource merges OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME.

    `service_name` is the fallback when OTEL_SERVICE_NAME is unset. With no OTLP endpoint there is
    no exporter at all, so a lab run without a collector prints no export errors.
    """
    resource = Resource.create({SERVICE_NAME: settings.service_name or service_name})
    provider = TracerProvider(resource=resource)
    if span_processor is not None:
        provider.add_span_processor(span_processor)
    elif settings.export_enabled:
        # The exporter reads the endpoint, headers and timeout from the OTEL_* variables itself.
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def install_tracer_provider(provider: TracerProvider) -> None:
    """Make `provider` the global one, unless a real provider is already installed."""
    if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        trace.set_tracer_provider(provider)


def instrument_httpx() -> None:
    """Trace every httpx request and propagate W3C trace context to the server."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    instrumentor = HTTPXClientInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()
