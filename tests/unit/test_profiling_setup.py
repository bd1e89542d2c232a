"""lab_telemetry.profiling without a Pyroscope: its settings, that nothing starts without an
address, and how it tags threads (the agent's tag calls recorded, not made)."""

import asyncio
import inspect
import json
import subprocess
import sys
import threading

import pyroscope
import pytest
from lab_telemetry import TelemetrySettings, profiling
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from pyroscope import otel as pyroscope_otel

# Runs in a fresh interpreter: setup_telemetry as a service calls it, then what it loaded and
# how many threads the process has (the agent's are native: /proc/self/task counts them).
SETUP_AND_REPORT = """
import json, os, sys
from lab_telemetry import setup_telemetry
from lab_telemetry.profiling import profiled_work
before = len(os.listdir("/proc/self/task"))
telemetry = setup_telemetry("quiet-service")
with telemetry.tracer.start_as_current_span("work"), profiled_work():
    pass
print(json.dumps({
    "profiling": telemetry.profiling,
    "threads_before": before,
    "threads_after": len(os.listdir("/proc/self/task")),
    "pyroscope_loaded": "pyroscope" in sys.modules,
}))
"""


def run_service_setup(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SETUP_AND_REPORT],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("address", [None, "", "  "])
def test_no_address_no_profiler_nothing_loaded_no_thread(address) -> None:
    env = {} if address is None else {"PYROSCOPE_SERVER_ADDRESS": address}
    result = run_service_setup(env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report == {
        "profiling": False,
        "threads_before": report["threads_before"],
        "threads_after": report["threads_before"],
        "pyroscope_loaded": False,
    }
    assert result.stderr == ""


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PYROSCOPE_SAMPLE_RATE", "fast"),
        ("PYROSCOPE_SAMPLE_RATE", "0"),
        ("PYROSCOPE_UPLOAD_INTERVAL", "0"),
        ("PYROSCOPE_SERVER_ADDRESS", "alloy:9999"),
        ("PYROSCOPE_SERVER_ADDRESS", "http://alloy:port"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(variable, value) -> None:
    result = run_service_setup({variable: value})
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert f"invalid setting {variable}: " in line, line


def test_defaults_are_the_agents_own() -> None:
    settings = TelemetrySettings()
    defaults = inspect.signature(pyroscope.configure).parameters
    assert settings.pyroscope_sample_rate == defaults["sample_rate"].default == 100
    assert settings.pyroscope_upload_interval == defaults["upload_interval"].default == 10
    assert settings.pyroscope_server_address is None
    assert not settings.profiling_enabled


def test_tags_name_the_service_as_the_tracer_does(monkeypatch) -> None:
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.namespace=stage-7,deployment.x=lab")
    monkeypatch.setenv("OTEL_SERVICE_NAME", "dice-roller")
    assert profiling.profile_tags(Resource.create()) == {
        "service_name": "dice-roller",
        "service_namespace": "stage-7",
    }
    monkeypatch.delenv("OTEL_RESOURCE_ATTRIBUTES")
    assert profiling.profile_tags(Resource.create({"service.name": "x"})) == {"service_name": "x"}


def test_the_names_are_pyroscope_otels() -> None:
    assert profiling._names() == (
        "pyroscope.profile.id",
        pyroscope_otel.PROFILE_ID_PYROSCOPE_TAG_KEY,
        pyroscope_otel.SPAN_NAME_PYROSCOPE_TAG_KEY,
        pyroscope_otel.TRACE_ID_PYROSCOPE_TAG_KEY,
    )
    assert pyroscope_otel.PROFILE_ID_SPAN_ATTRIBUTE_KEY == "pyroscope.profile.id"


@pytest.fixture
def tag_calls(monkeypatch) -> list[tuple]:
    """The agent's thread-tag calls, recorded with the thread they were made on."""
    calls: list[tuple] = []

    def record(op: str):
        return lambda key, value: calls.append((op, threading.get_ident(), key, value)) or True

    monkeypatch.setattr(pyroscope, "add_thread_tag", record("add"))
    monkeypatch.setattr(pyroscope, "remove_thread_tag", record("remove"))
    monkeypatch.setattr(profiling, "_link_spans", True)
    return calls


def tagged_ids(calls: list[tuple]) -> list[tuple[str, str]]:
    return [(op, value) for op, _thread, key, value in calls if key == "span_id"]


def test_a_thread_carries_the_innermost_spans_tags_only(tag_calls) -> None:
    tracer = TracerProvider().get_tracer("test")
    with (
        tracer.start_as_current_span("outer") as outer,
        profiling.profiled_work(),
        tracer.start_as_current_span("inner") as inner,
        profiling.profiled_work(),
    ):
        pass
    o = format(outer.get_span_context().span_id, "016x")
    i = format(inner.get_span_context().span_id, "016x")
    assert tagged_ids(tag_calls) == [
        ("add", o),
        ("remove", o),
        ("add", i),
        ("remove", i),
        ("add", o),
        ("remove", o),
    ]
    assert outer.attributes["pyroscope.profile.id"] == o
    assert inner.attributes["pyroscope.profile.id"] == i
    names = {value for _, _, key, value in tag_calls if key == "span_name"}
    assert names == {"outer", "inner"}


def test_profiled_work_tags_nothing_outside_a_recorded_span_or_when_off(tag_calls, monkeypatch):
    with profiling.profiled_work():
        pass
    assert tag_calls == []
    monkeypatch.setattr(profiling, "_link_spans", False)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("s"), profiling.profiled_work():
        pass
    assert tag_calls == []


def test_the_processor_tags_a_root_on_a_plain_thread_and_not_on_an_event_loop(tag_calls) -> None:
    provider = TracerProvider()
    provider.add_span_processor(profiling.SpanProfileProcessor())
    tracer = provider.get_tracer("test")

    def in_a_thread() -> None:
        with tracer.start_as_current_span("request"), tracer.start_as_current_span("child"):
            pass

    worker = threading.Thread(target=in_a_thread)
    worker.start()
    worker.join()
    # The root's tags on the thread it started on, removed when it ended; the child untouched.
    assert [op for op, *_ in tag_calls] == ["add"] * 3 + ["remove"] * 3
    assert {thread for _, thread, *_ in tag_calls} == {worker.ident}
    tag_calls.clear()

    async def on_the_loop() -> None:
        with tracer.start_as_current_span("request") as span:
            assert "pyroscope.profile.id" not in span.attributes

    asyncio.run(on_the_loop())
    assert tag_calls == []


def test_profiled_runs_the_function_and_refuses_a_coroutine() -> None:
    def work(x: int, *, y: int) -> int:
        return x + y

    assert profiling.profiled(work)(1, y=2) == 3
    assert inspect.signature(profiling.profiled(work)) == inspect.signature(work)

    async def handler() -> None:
        pass

    with pytest.raises(TypeError, match="to_thread"):
        profiling.profiled(handler)
