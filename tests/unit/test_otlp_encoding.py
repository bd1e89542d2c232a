"""lab-telemetry's span encoder writes exactly what the official OTLP encoder writes."""

import pytest
from lab_telemetry.otlp import encode_spans
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans as official
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
)


@pytest.fixture
def finished() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    resource = Resource.create(
        {"service.name": "dice-roller", "count": 3, "ratio": 1.5, "on": True, "tags": ("a", "b")},
        schema_url="https://opentelemetry.io/schemas/1.21.0",
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def spans_of_every_shape(provider: TracerProvider) -> None:
    tracer = provider.get_tracer("lab", "1.2", schema_url="https://x/s", attributes={"k": "v"})
    other = provider.get_tracer("other")
    attributes = {
        "empty": "",
        "negative": -5,
        "zero": 0,
        "float_zero": 0.0,
        "yes": True,
        "no": False,
        "ints": [1, 2, 3],
        "strings": ["x", ""],
        "unicode": "üñí ✓",
        "largest": 2**63 - 1,
    }
    with tracer.start_as_current_span("parent", kind=SpanKind.SERVER, attributes=attributes) as s:
        s.add_event("event", {"key": "value"})
        s.add_event("")
        s.set_status(Status(StatusCode.ERROR, "boom"))
        with other.start_as_current_span("child", links=[Link(s.get_span_context(), {"n": 1})]):
            pass
        try:
            raise ValueError("bad")
        except ValueError as exc:
            s.record_exception(exc)
    remote = SpanContext(
        0xABC,
        0xDEF,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "x"), ("other", "y")]),
    )
    parent = trace.set_span_in_context(NonRecordingSpan(remote))
    with tracer.start_as_current_span("remote child", context=parent, kind=SpanKind.CLIENT) as s:
        s.set_status(Status(StatusCode.OK))
    with tracer.start_as_current_span("", kind=SpanKind.CONSUMER):
        pass


def test_bytes_equal_the_official_encoders(finished) -> None:
    provider, exporter = finished
    spans_of_every_shape(provider)
    spans: tuple[ReadableSpan, ...] = exporter.get_finished_spans()
    assert len(spans) == 4
    assert encode_spans(spans) == official(spans).SerializeToString()
    # A second pass reads attribute pairs from the cache: still the same bytes.
    assert encode_spans(spans) == official(spans).SerializeToString()


def test_values_equal_as_numbers_but_not_in_type_are_kept_apart(finished) -> None:
    provider, exporter = finished
    tracer = provider.get_tracer("lab")
    for value in (True, 1, 1.0, 0.0, -0.0, float("nan")):
        with tracer.start_as_current_span("s", attributes={"v": value}):
            pass
    spans = exporter.get_finished_spans()
    assert encode_spans(spans) == official(spans).SerializeToString()


def test_a_pair_in_the_resource_a_span_and_an_event_is_encoded_for_each(finished) -> None:
    # The same key and value under three different field numbers.
    provider, exporter = finished
    with provider.get_tracer("lab").start_as_current_span("s", attributes={"count": 3}) as span:
        span.add_event("e", {"count": 3})
    spans = exporter.get_finished_spans()
    assert encode_spans(spans) == official(spans).SerializeToString()


def test_no_spans_is_an_empty_request() -> None:
    assert encode_spans([]) == official([]).SerializeToString() == b""
