"""Profiles from a real service process: the real Pyroscope agent (pyroscope-io, through
lab-telemetry) profiles tests/support/profiled_app.py and pushes to a stand-in of Pyroscope's
ingest API (tests/support/fake_pyroscope.py), which decodes each push with protobuf; spans go to
lab-telemetry's OTLP receiver. The profiles must name the planted functions, and their samples
the span each ran in, also when requests run concurrently."""

import itertools
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from lab_telemetry.testing import OtlpReceiver, ReceivedSpan, poll_until

from tests.support.fake_pyroscope import PUSH_PATH, FakePyroscope, ProfileSample
from tests.support.paths import REPO
from tests.support.ports import free_port
from tests.support.processes import Service

APP = REPO / "tests" / "support" / "profiled_app.py"
SERVICE = "profiled-app"
NAMESPACE = "lab-test"
PLANTED = ("planted_alpha", "planted_beta", "planted_inline")


@pytest.fixture
def fake_pyroscope() -> Iterator[FakePyroscope]:
    with FakePyroscope() as pyroscope:
        yield pyroscope


@pytest.fixture
def start_app(start_service) -> Callable[..., Service]:
    def start(**env: str) -> Service:
        port = free_port()
        environment = {
            "PROFILED_APP_PORT": str(port),
            "OTEL_SERVICE_NAME": SERVICE,
            "OTEL_RESOURCE_ATTRIBUTES": f"service.namespace={NAMESPACE}",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            **env,
        }
        return start_service([sys.executable, str(APP)], environment, port)

    return start


def traced_get(client: httpx.Client, path: str) -> str:
    """GET `path` in a trace of its own (a sampled traceparent); its trace id."""
    trace_id = secrets.token_hex(16)
    response = client.get(path, headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"})
    assert response.status_code == 200, response.text
    return trace_id


def with_function(samples: list[ProfileSample], name: str) -> list[ProfileSample]:
    return [s for s in samples if name in s.functions]


def test_the_agent_pushes_what_the_stand_in_documents(start_app, fake_pyroscope) -> None:
    """Path, headers, body, labels, sample rate and interval, as tests/support/fake_pyroscope.py
    describes them: default interval (10 s), PYROSCOPE_SAMPLE_RATE=50, tracing off."""
    app = start_app(PYROSCOPE_SERVER_ADDRESS=fake_pyroscope.address, PYROSCOPE_SAMPLE_RATE="50")
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=app.base_url, timeout=30) as client:
            while not stop.is_set():
                client.get("/beta", params={"seconds": 0.2})
                stop.wait(0.05)

    loader = threading.Thread(target=load)
    loader.start()
    try:
        poll_until(lambda: len(fake_pyroscope.calls) >= 2, timeout=40, what="two pushes")
    finally:
        stop.set()
        loader.join()

    first, second = fake_pyroscope.calls[:2]
    for call in (first, second):
        assert (call.method, call.path, call.query, call.status) == ("POST", PUSH_PATH, "", 200)
        assert call.headers["content-type"] == "application/proto"
        assert call.headers["content-encoding"] == "gzip"
        assert call.headers["user-agent"] == "pyroscope-rs/pyspy/1.4.0 reqwest"
    assert 9.0 <= second.at - first.at <= 11.5, second.at - first.at

    profiles = fake_pyroscope.received()
    assert len(profiles) >= 2
    for profile in profiles:
        assert {
            "__name__": "process_cpu",
            "service_name": SERVICE,
            "service_namespace": NAMESPACE,
            "otel.scope.name": "com.grafana.pyroscope/python",
        }.items() <= profile.labels.items()
        assert re.fullmatch(r"[0-9a-f-]{36}", profile.id)
        assert not profile.raw_profile_gzipped
        assert profile.sample_types == [("cpu", "nanoseconds")]
        assert profile.profile.period == 1_000_000_000 // 50
        assert all(v % profile.profile.period == 0 for s in profile.samples() for v in s.values)
    beta = with_function(fake_pyroscope.samples(service_name=SERVICE), "planted_beta")
    assert beta and sum(s.values[0] for s in beta) > 0
    # Tracing is off: no span to tie them to, so no span tags at all.
    assert not any(s.label_values("span_id") for s in fake_pyroscope.samples())


def overlapping(a: ReceivedSpan, b: ReceivedSpan) -> bool:
    return a.start_ns < b.end_ns and b.start_ns < a.end_ns


def test_concurrent_requests_samples_carry_their_own_span(
    start_app, fake_pyroscope, otlp_receiver: OtlpReceiver
) -> None:
    """/alpha (async, work in a worker thread) and /beta (`def`, @profiled) burn CPU at the same
    time, /inline on the event loop beside them: each planted function is sampled under the span
    of its own request only (90% of its samples at least: a sample taken as a block ends gets
    the thread's tags after they are removed), never another's, and the event loop's samples
    under no span."""
    app = start_app(
        PYROSCOPE_SERVER_ADDRESS=fake_pyroscope.address,
        PYROSCOPE_UPLOAD_INTERVAL="1",
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.endpoint,
    )
    traces: dict[str, list[str]] = {"/alpha": [], "/beta": [], "/inline": []}
    seconds = {"/alpha": 0.6, "/beta": 0.6, "/inline": 0.2}
    with httpx.Client(base_url=app.base_url, timeout=30) as client, ThreadPoolExecutor(3) as pool:
        for _round in range(4):
            futures = {
                path: pool.submit(traced_get, client, f"{path}?seconds={seconds[path]}")
                for path in traces
            }
            for path, future in futures.items():
                traces[path].append(future.result())
            time.sleep(0.3)  # rounds apart: a worker thread reused by the next one is idle first

    def endpoint_span(trace_id: str) -> ReceivedSpan | None:
        spans = [s for s in otlp_receiver.trace(trace_id) if "pyroscope.profile.id" in s.attributes]
        return spans[0] if len(spans) == 1 else None

    spans = {
        path: [poll_until(lambda t=t: endpoint_span(t), what=f"{path}'s span") for t in ids]
        for path, ids in traces.items()
        if path != "/inline"
    }
    samples = lambda: fake_pyroscope.samples(service_name=SERVICE)  # noqa: E731

    def every_request_sampled() -> bool:
        sampled = {v for s in samples() for v in s.label_values("span_id")}
        return {s.span_id for group in spans.values() for s in group} <= sampled and bool(
            with_function(samples(), "planted_inline")
        )

    poll_until(every_request_sampled, timeout=15, what="samples of every request")

    # The requests did run concurrently: some /alpha and /beta endpoint spans overlap.
    assert any(overlapping(a, b) for a, b in zip(spans["/alpha"], spans["/beta"], strict=True))
    for path, function in (("/alpha", "planted_alpha"), ("/beta", "planted_beta")):
        own = {s.span_id: s for s in spans[path]}
        planted = with_function(samples(), function)
        for sample in planted:
            # Never another request's span: one span of this endpoint's requests, with its trace
            # and name, or (a sample taken as the block ended, filed just after) none.
            span_ids = sample.label_values("span_id")
            assert len(span_ids) <= 1 and set(span_ids) <= own.keys(), (function, sample.labels)
            for span_id in span_ids:
                assert sample.label_values("trace_id") == [own[span_id].trace_id]
                assert sample.label_values("span_name") == [own[span_id].name]
        tagged = sum(s.values[0] for s in planted if s.label_values("span_id"))
        total = sum(s.values[0] for s in planted)
        print(f"{function}: {tagged / total:.1%} of {total / 1e9:.2f} s of samples under a span")
        assert tagged >= 0.9 * total
        for span in own.values():
            assert span.attributes["pyroscope.profile.id"] == span.span_id
            assert span.trace_id in traces[path]
            assert any(span.span_id in s.label_values("span_id") for s in planted), span
    # The event loop carries no span's tags: its samples are the service's, tied to no request.
    inline = with_function(samples(), "planted_inline")
    assert inline and not any(s.label_values("span_id") for s in inline)
    assert all(len(s.label_values("span_id")) <= 1 for s in samples())


def vm_rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE).group(1))


AGENT_ERROR = re.compile(
    r"^\s*(\S+Z) ERROR _native::session > SessionManager - Failed to send session: (.*)$"
)
RSS_MARGIN_KIB = 8 * 1024


def test_with_pyroscope_down_the_service_serves_memory_bounded_one_line_per_interval(
    start_app, otlp_receiver: OtlpReceiver
) -> None:
    """Nothing listens at the address: over 30 s of requests (2 s upload interval, tracing on)
    every request is answered, RSS after a warm-up grows by less than RSS_MARGIN_KIB, and the
    agent writes one line per failed upload on stderr, never two within an interval."""
    interval = 2
    app = start_app(
        PYROSCOPE_SERVER_ADDRESS=f"http://127.0.0.1:{free_port()}",
        PYROSCOPE_UPLOAD_INTERVAL=str(interval),
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.endpoint,
    )
    statuses: list[int] = []
    stop = threading.Event()

    def load() -> None:
        with httpx.Client(base_url=app.base_url, timeout=30) as client:
            while not stop.is_set():
                for path in ("/alpha", "/beta", "/inline"):
                    statuses.append(client.get(path, params={"seconds": 0.05}).status_code)
                stop.wait(0.05)

    loader = threading.Thread(target=load)
    loader.start()
    started = time.monotonic()
    rss: list[int] = []
    try:
        time.sleep(6)  # warm-up: imports, the thread pool, the first intervals
        while time.monotonic() - started < 36:
            rss.append(vm_rss_kib(app.process.pid))
            time.sleep(1)
    finally:
        stop.set()
        loader.join()
    elapsed = time.monotonic() - started

    assert statuses and set(statuses) == {200}, set(statuses)
    assert app.process.poll() is None
    growth = max(rss) - rss[0]
    print(f"VmRSS {rss[0]} -> max {max(rss)} KiB over {len(rss)} s, {len(statuses)} requests")
    assert growth < RSS_MARGIN_KIB, rss

    lines = [line for line in app.stderr().splitlines() if line.strip()]
    errors = [AGENT_ERROR.match(line) for line in lines]
    assert all(errors), lines  # the agent's failures are all it writes on stderr
    times = [datetime.fromisoformat(m.group(1).replace("Z", "+00:00")) for m in errors]
    assert 1 <= len(times) <= elapsed / interval + 1, (len(times), elapsed)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert all(gap > interval * 0.75 for gap in gaps), gaps
    assert "error sending request for url" in errors[0].group(2)
