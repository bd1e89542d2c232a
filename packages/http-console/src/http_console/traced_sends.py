"""Sending one request from the page as a trace of its own, logged and counted."""

import logging
from dataclasses import dataclass

import httpx
from lab_telemetry import Telemetry, log_usage
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span
from opentelemetry.util.http import redact_url

from http_console.requests import RequestError, RequestSpec, ResponseView, build, send
from http_console.settings import ConsoleSettings

logger = logging.getLogger("http_console")


@dataclass(frozen=True)
class Outcome:
    """What a Send ended in: the response or the error the page shows, and the trace to open."""

    view: ResponseView | None = None
    error: str | None = None
    trace_id: str = ""


def log_level_for(status: int) -> int:
    """INFO for 1xx-3xx, WARNING for the caller's mistakes (4xx), ERROR for the server's (5xx)."""
    if status >= 500:
        return logging.ERROR
    if status >= 400:
        return logging.WARNING
    return logging.INFO


class TracedSender:
    """Sends requests for every browser session; one instance per app, shared by the sessions."""

    def __init__(
        self, settings: ConsoleSettings, telemetry: Telemetry, client: httpx.AsyncClient
    ) -> None:
        self.settings = settings
        self.tracer = telemetry.tracer
        self.client = client
        self.sends = telemetry.metrics.counter(
            "http_console_sends_total",
            "Requests sent from the page, by method and outcome.",
            ("method", "outcome"),
        )

    async def send(self, spec: RequestSpec, session_id: str) -> Outcome:
        # Credentials typed into the URL (user:password@) never reach a span or a log line.
        url = redact_url(spec.url)
        # Each Send starts a trace of its own: Shiny traces its reactive updates too, and
        # under one of those a Send would be one span deep in Shiny's trace.
        with self.tracer.start_as_current_span(
            "send",
            context=Context(),
            attributes={"http.request.method": spec.method, "url.full": url},
        ) as span:
            # Logged inside the span, so each log line carries the Send's trace id.
            trace_id = trace.format_trace_id(span.get_span_context().trace_id)
            fields = {"session_id": session_id, "method": spec.method, "url": url}
            try:
                prepared = build(spec, self.settings.targets)
                view = await send(self.client, prepared, self.settings.max_body_bytes)
            except RequestError as exc:
                self._record_failure(span, spec, exc, fields)
                return Outcome(error=str(exc), trace_id=trace_id)
            self._record_answer(span, spec, url, view, fields)
            return Outcome(view=view, trace_id=trace_id)

    def _record_failure(
        self, span: Span, spec: RequestSpec, exc: RequestError, fields: dict[str, object]
    ) -> None:
        """Refused, invalid or unanswered: an error span, an ERROR line, a `failed` count."""
        span.set_status(trace.StatusCode.ERROR, str(exc))
        logger.error("send failed: %s", exc, extra=fields)
        self.sends.labels(spec.method, "failed").inc()

    def _record_answer(
        self,
        span: Span,
        spec: RequestSpec,
        url: str,
        view: ResponseView,
        fields: dict[str, object],
    ) -> None:
        """An answer: its status on the span (an error from 500 up), the log and the counts."""
        span.set_attribute("http.response.status_code", view.status)
        if view.status >= 500:
            span.set_status(trace.StatusCode.ERROR, f"HTTP {view.status}")
        fields = fields | {"status": view.status, "elapsed_ms": round(view.elapsed_ms, 1)}
        logger.log(
            log_level_for(view.status),
            "sent %s %s: %s",
            spec.method,
            url,
            view.status,
            extra=fields,
        )
        log_usage("send", method=spec.method, status=view.status)
        self.sends.labels(spec.method, f"{view.status // 100}xx").inc()
