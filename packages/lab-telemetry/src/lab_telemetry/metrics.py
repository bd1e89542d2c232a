"""Prometheus metrics on a per-app registry, served as OpenMetrics when the scraper asks for it.

prometheus_client does the metrics and both formats, prometheus-fastapi-instrumentator the HTTP
ones; what is here is serving the format the scraper asks for (prometheus_client's own
`choose_encoder`; exemplars exist only in OpenMetrics, and the instrumentator's `expose()` serves
the text format only) and the exemplar on the latency histogram, added through the
instrumentator's `add()`.
"""

from collections.abc import Sequence

from fastapi import FastAPI
from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_fastapi_instrumentator import Instrumentator
from prometheus_fastapi_instrumentator import metrics as instrumentator_metrics

# Request latency buckets in seconds: fine below 100 ms where the demo apps live, and around the
# simulated faults' delays (0.5-1.5 s), so a quantile over them lands near the real durations.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0)


def trace_exemplar() -> dict[str, str] | None:
    """The current sampled span's trace id as an exemplar label set, or None."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid and context.trace_flags.sampled:
        return {"trace_id": trace.format_trace_id(context.trace_id)}
    return None


class Metrics:
    """A registry of its own per app, so two apps in one process never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()

    def counter(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
        return Counter(name, documentation, labelnames=labels, registry=self.registry)

    def gauge(self, name: str, documentation: str, labels: Sequence[str] = ()) -> Gauge:
        return Gauge(name, documentation, labelnames=labels, registry=self.registry)

    def histogram(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str] = (),
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> Histogram:
        return Histogram(
            name, documentation, labelnames=labels, buckets=buckets, registry=self.registry
        )

    def render(self, accept: str) -> tuple[bytes, str]:
        """The exposition body and its content type, negotiated from the scraper's Accept header
        by prometheus_client itself (exemplars exist only in OpenMetrics)."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type


def instrument_http_metrics(app: FastAPI, metrics: Metrics, excluded: Sequence[str]) -> None:
    """HTTP request metrics from prometheus-fastapi-instrumentator, by route template.

    Its own `requests` counter (`http_requests_total{handler,method,status}`, status as 2xx/4xx/
    5xx) and a latency histogram added through its extension point (`Instrumentator.add`), since
    its built-in one carries no exemplars: `http_request_duration_seconds{handler,method}` with the
    request's trace id as an exemplar, in LATENCY_BUCKETS. `excluded` paths are not counted.
    """
    duration = metrics.histogram(
        "http_request_duration_seconds",
        "HTTP request latency by method and route template; exemplars carry trace_id.",
        ("handler", "method"),
    )

    def latency_with_exemplar(info: instrumentator_metrics.Info) -> None:
        # Runs inside the request's server span, so the exemplar is that trace.
        duration.labels(info.modified_handler, info.method).observe(
            info.modified_duration, exemplar=trace_exemplar()
        )

    instrumentator = Instrumentator(
        excluded_handlers=[f"^{path}$" for path in excluded], registry=metrics.registry
    )
    instrumentator.add(instrumentator_metrics.requests(registry=metrics.registry))
    instrumentator.add(latency_with_exemplar)
    instrumentator.instrument(app)
