"""Prometheus metrics on a per-app registry, served as OpenMetrics when the scraper asks for it."""

from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import exposition as text_format
from prometheus_client.openmetrics import exposition as openmetrics_format

# Request latency buckets in seconds: fine below 100 ms where the demo apps live, coarse above.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Any other method a client sends is counted as _OTHER, as the HTTP semantic conventions do.
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "QUERY"}
)


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
        """The exposition body and its content type; exemplars exist only in OpenMetrics."""
        if "application/openmetrics-text" in accept:
            return (
                openmetrics_format.generate_latest(self.registry),
                openmetrics_format.CONTENT_TYPE_LATEST,
            )
        return text_format.generate_latest(self.registry), text_format.CONTENT_TYPE_LATEST


class HttpMetrics:
    """The request metrics of prometheus-fastapi-instrumentator, by route template, plus exemplars.

    Same names and labels as the instrumentator's defaults (`handler` is the route template,
    `status` is grouped as 2xx/4xx/5xx), so its dashboards work; recorded by our one middleware so
    the route lookup and the clock are shared with the span.
    """

    def __init__(self, metrics: Metrics) -> None:
        self.requests = metrics.counter(
            "http_requests_total",
            "HTTP requests by method, route template and status class.",
            ("method", "handler", "status"),
        )
        self.duration = metrics.histogram(
            "http_request_duration_seconds",
            "HTTP request latency by method and route template; exemplars carry trace_id.",
            ("method", "handler"),
        )

        # Labelled children, cached: labels() validates and locks on every call. The key space is
        # bounded because method is one of a known few and handler a route template.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, handler: str, status: int, seconds: float) -> None:
        method = method if method in KNOWN_METHODS else "_OTHER"
        key = (method, handler, status // 100)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(method, handler, f"{status // 100}xx"),
                self.duration.labels(method, handler),
            )
        requests, duration = children
        requests.inc()
        duration.observe(seconds, exemplar=trace_exemplar())
