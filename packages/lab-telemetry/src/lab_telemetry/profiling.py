"""Continuous profiling with Grafana Pyroscope's agent, and CPU samples tied to their spans.

The agent is pyroscope-io (the `profiling` extra, pinned): a native library that samples this
process's own Python stacks with py-spy (100 times a second by default), keeps them in memory
and every 10 s POSTs them as a gzipped protobuf `push.v1.PushRequest` holding one pprof
`Profile` to `<PYROSCOPE_SERVER_ADDRESS>/push.v1.PusherService/Push` (Connect, `application/
proto`): tests/support/fake_pyroscope.py records what exactly, and where it was read. It
starts only when PYROSCOPE_SERVER_ADDRESS is set; without it nothing here imports the agent,
so tests and `uv run` start no profiler thread. setup_telemetry() calls `start_profiling` and,
when tracing is on too, `link_spans`.

Samples carry the thread's *tags* when the sampler reads them. pyroscope-otel's span processor
(PyroscopeSpanProcessor, 1.1.0) ties samples to spans by tagging the thread that starts a local
root span with its `span_id`, `span_name` and `trace_id` until the span ends, and putting the
same id on the span (`pyroscope.profile.id`, where Grafana looks for it). On an asyncio server
that is not true: every request starts on the one event-loop thread, so overlapping requests
leave several `span_id` tags on it at once (Pyroscope keeps the first), and a `def` endpoint
runs in a worker thread that gets no tag at all. Here, with the same names:

- `SpanProfileProcessor` does what PyroscopeSpanProcessor does on a thread that serves one
  request at a time, and nothing on a thread running an event loop;
- `profiled_work()` (and `@profiled`) tags the *current* thread with the *current* span for a
  block of CPU work. Run the work in a worker thread inside the span
  (`await anyio.to_thread.run_sync(profiled(work), ...)`, or a `def` endpoint decorated with
  `@profiled`): concurrent requests then sample on distinct threads, each under its own span.
- A thread carries one span's tags at a time: the innermost block's, the outer span's again
  when the block ends.

Only spans a tracer records and exports are tagged (a span id that no trace backend has would
be a link to nothing).
"""

import asyncio
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider

from lab_telemetry.settings import TelemetrySettings

P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger(__name__)

SERVICE_NAMESPACE = "service.namespace"
# The Rust agent logs through its own logger (pretty_env_logger, on stderr), at the level of the
# `pyroscope` Python logger when it starts. ERROR leaves one line per failed upload, that is at
# most one per upload interval, and nothing while uploads succeed.
AGENT_LOG_LEVEL = logging.ERROR

_running = False
_link_spans = False


def profile_tags(resource: Resource) -> dict[str, str]:
    """The tags on every profile: the tracer's service.name and service.namespace, as labels
    `service_name` and `service_namespace` (Pyroscope's names for them)."""
    attributes = resource.attributes
    tags = {"service_name": str(attributes.get(SERVICE_NAME, "unknown_service"))}
    namespace = attributes.get(SERVICE_NAMESPACE)
    if namespace:
        tags["service_namespace"] = str(namespace)
    return tags


def start_profiling(settings: TelemetrySettings, resource: Resource) -> bool:
    """Start the process's Pyroscope agent (once per process); True if it runs.

    `resource` is the tracer provider's, so profiles and traces name the same service. Without
    PYROSCOPE_SERVER_ADDRESS this returns False before importing the agent.
    """
    global _running
    if not settings.pyroscope_server_address:
        return False
    if _running:
        return True
    import pyroscope

    tags = profile_tags(resource)
    logging.getLogger("pyroscope").setLevel(AGENT_LOG_LEVEL)
    _running = bool(
        pyroscope.configure(
            application_name=tags["service_name"],
            server_address=settings.pyroscope_server_address,
            sample_rate=settings.pyroscope_sample_rate,
            upload_interval=settings.pyroscope_upload_interval,
            tags=tags,
            enable_logging=True,
        )
    )
    if _running:
        logger.info(
            "profiling to %s",
            settings.pyroscope_server_address,
            extra={"sample_rate": settings.pyroscope_sample_rate},
        )
    else:
        logger.warning("the Pyroscope agent did not start: this process sends no profiles")
    return _running


def link_spans(provider: TracerProvider) -> bool:
    """Tie CPU samples to the spans of `provider`: its SpanProfileProcessor, and profiled_work
    turned on. Does nothing (False) unless the agent runs."""
    global _link_spans
    if not _running:
        return False
    provider.add_span_processor(SpanProfileProcessor())
    _link_spans = True
    return True


@functools.cache
def _names() -> tuple[str, str, str, str]:
    """pyroscope-otel's names: the span attribute, and the span id, span name and trace id tags."""
    from pyroscope import otel

    return (
        otel.PROFILE_ID_SPAN_ATTRIBUTE_KEY,
        otel.PROFILE_ID_PYROSCOPE_TAG_KEY,
        otel.SPAN_NAME_PYROSCOPE_TAG_KEY,
        otel.TRACE_ID_PYROSCOPE_TAG_KEY,
    )


def _span_tags(span: trace.Span | ReadableSpan) -> dict[str, str]:
    context = span.get_span_context() if isinstance(span, trace.Span) else span.context
    _, span_id_key, span_name_key, trace_id_key = _names()
    return {
        span_id_key: trace.format_span_id(context.span_id),
        span_name_key: span.name,
        trace_id_key: trace.format_trace_id(context.trace_id),
    }


class _ThreadTags(threading.local):
    def __init__(self) -> None:
        # The tag sets pushed on this thread, innermost last; only the last is on the thread.
        self.stack: list[dict[str, str]] = []


_thread_tags = _ThreadTags()


def _apply(tags: dict[str, str], add: bool) -> None:
    import pyroscope

    for key, value in tags.items():
        (pyroscope.add_thread_tag if add else pyroscope.remove_thread_tag)(key, value)


def _push(tags: dict[str, str]) -> None:
    stack = _thread_tags.stack
    if stack:
        _apply(stack[-1], add=False)
    _apply(tags, add=True)
    stack.append(tags)


def _pop(tags: dict[str, str]) -> None:
    stack = _thread_tags.stack
    if not stack or tags not in stack:
        return  # not pushed on this thread
    if stack[-1] != tags:
        stack.remove(tags)  # ended before an inner one: its tags were not on the thread
        return
    _apply(stack.pop(), add=False)
    if stack:
        _apply(stack[-1], add=True)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _is_local_root(span: ReadableSpan) -> bool:
    return span.parent is None or span.parent.is_remote


class SpanProfileProcessor(SpanProcessor):
    """pyroscope-otel's PyroscopeSpanProcessor, true on an event loop.

    For a local root span started on a thread without a running event loop (a thread per
    request, a script) it does what PyroscopeSpanProcessor does: the span gets
    `pyroscope.profile.id` = its span id, the thread the tags `span_id`, `span_name` and
    `trace_id` until the span ends on it. On an event-loop thread, where concurrent requests
    take turns, it does nothing: those samples carry the service's tags only, and the CPU work
    of a request is tied to its span by `profiled_work` instead.
    """

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if not _is_local_root(span) or _on_event_loop():
            return
        tags = _span_tags(span)
        span.set_attribute(_names()[0], tags[_names()[1]])
        _push(tags)

    def on_end(self, span: ReadableSpan) -> None:
        if _is_local_root(span):
            _pop(_span_tags(span))


@contextmanager
def profiled_work() -> Iterator[None]:
    """Tie the CPU samples of this block, on this thread, to the current span.

    The thread carries the span's `span_id`, `span_name` and `trace_id` tags for the block, and
    the span gets `pyroscope.profile.id` (so Grafana offers its profile). Use it on a worker
    thread (see `profiled`); on an event loop only around code that does not `await`, since
    another request's code would run under these tags meanwhile. Does nothing when profiling or
    tracing is off, or outside a recorded span.
    """
    span = trace.get_current_span()
    if not _link_spans or not span.is_recording():
        yield
        return
    tags = _span_tags(span)
    span.set_attribute(_names()[0], tags[_names()[1]])
    _push(tags)
    try:
        yield
    finally:
        _pop(tags)


def profiled(func: Callable[P, R]) -> Callable[P, R]:
    """`func` run inside `profiled_work()`: for CPU work in a worker thread, which gets the
    request's span through the context anyio copies into it, e.g.
    `await anyio.to_thread.run_sync(profiled(render), data)`, or on a `def` endpoint (FastAPI
    runs it in a worker thread)."""
    if asyncio.iscoroutinefunction(func):
        raise TypeError(
            f"profiled({func.__qualname__}): a coroutine's awaits would let other requests run "
            "under its span's tags; run its CPU work in a thread: "
            "await anyio.to_thread.run_sync(profiled(work))"
        )

    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with profiled_work():
            return func(*args, **kwargs)

    return run
