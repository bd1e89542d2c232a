"""Stage 1: one dice-roller, a fair die and a risky one, as a real process."""

import httpx
import pytest
from lab_telemetry.testing import OtlpReceiver, poll_until

from tests.support.ports import free_port
from tests.support.processes import run_entry_point

SERVER = 2  # SPAN_KIND_SERVER in OTLP


@pytest.fixture
def start_stage1(start_service, otlp_receiver: OtlpReceiver):
    def start(**settings: str):
        port = free_port()
        env = {
            "DICE_ROLLER_PORT": str(port),
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            **{f"DICE_ROLLER_{key.upper()}": value for key, value in settings.items()},
        }
        return start_service("stage1-dice-roller", env, port)

    return start


def test_fair_die_rolls_one_to_six_in_one_server_span(start_stage1, otlp_receiver) -> None:
    service = start_stage1()
    values = {
        httpx.get(f"{service.base_url}/roll?die=fair", timeout=5).json()["value"] for _ in range(30)
    }
    assert values <= set(range(1, 7)) and len(values) > 1
    spans = poll_until(
        lambda: len(s := otlp_receiver.find(service="dice-roller", kind=SERVER)) >= 30 and s,
        timeout=15,
    )
    assert {s.name for s in spans} == {"GET /roll"}
    assert all(s.parent_span_id == "" for s in spans)  # each request is its own trace's root
    assert len({s.trace_id for s in spans}) == len(spans) == 30  # one server span a request
    assert spans[0].attributes["url.query"] == "die=fair"  # what the chapter's diagnosis reads
    # FastAPI's operation spans under each server span: where the handler spends its time.
    operations = poll_until(
        lambda: len(s := otlp_receiver.find(parent_span_id=spans[0].span_id)) == 3 and s
    )
    assert {s.name for s in operations} == {
        "fastapi.dependencies",
        "fastapi.endpoint",
        "fastapi.serialization",
    }


def test_unknown_die_is_a_422_listing_the_valid_ones(start_stage1) -> None:
    service = start_stage1()
    response = httpx.get(f"{service.base_url}/roll?die=loaded", timeout=5)
    assert response.status_code == 422
    (error,) = response.json()["detail"]  # FastAPI's standard validation body
    assert (error["loc"], error["msg"]) == (["query", "die"], "Input should be 'fair' or 'risky'")


def test_risky_failure_is_a_500_with_an_error_span_and_an_error_log(
    start_stage1, otlp_receiver
) -> None:
    service = start_stage1(risky_failure_rate="1", risky_slow_rate="0")
    response = httpx.get(f"{service.base_url}/roll?die=risky", timeout=5)
    assert response.status_code == 500
    assert "simulated failure" in response.json()["detail"]
    (span,) = poll_until(lambda: otlp_receiver.find(service="dice-roller", kind=SERVER))
    assert span.is_error
    assert span.attributes["http.response.status_code"] == 500
    (endpoint,) = poll_until(lambda: otlp_receiver.find(name="fastapi.endpoint"), timeout=15)
    error = service.wait_for_log(level="ERROR", logger="stage1.dice_roller")
    # Written in the handler: the endpoint's operation span, in the request's trace.
    assert error["trace_id"] == span.trace_id
    assert error["span_id"] == endpoint.span_id and endpoint.parent_span_id == span.span_id


def test_risky_slowness_is_logged_in_the_requests_trace(start_stage1, otlp_receiver) -> None:
    service = start_stage1(risky_failure_rate="0", risky_slow_rate="1", risky_delay_seconds="0.2")
    assert httpx.get(f"{service.base_url}/roll?die=risky", timeout=5).status_code == 200
    (span,) = poll_until(lambda: otlp_receiver.find(service="dice-roller", kind=SERVER))
    assert span.end_ns - span.start_ns >= 200_000_000  # the delay is inside the span
    slow = service.wait_for_log(level="WARNING", logger="stage1.dice_roller")
    assert slow["trace_id"] == span.trace_id
    usage = service.wait_for_log(event="roll")
    assert usage["usage"] is True and usage["trace_id"] == span.trace_id
    assert usage["attributes"]["die"] == "risky"


def test_metrics_count_rolls_by_die_and_value_and_failures_by_die(start_stage1) -> None:
    service = start_stage1(risky_failure_rate="1", risky_slow_rate="0")
    httpx.get(f"{service.base_url}/roll?die=fair", timeout=5)
    httpx.get(f"{service.base_url}/roll?die=risky", timeout=5)
    metrics = httpx.get(f"{service.base_url}/metrics", timeout=5).text
    assert 'dice_roll_failures_total{die="risky"} 1.0' in metrics
    assert 'dice_rolls_total{die="fair",value="' in metrics
    assert 'http_requests_total{handler="/roll",method="GET",status="5xx"} 1.0' in metrics


def test_bad_settings_are_one_line_and_exit_2(tmp_path) -> None:

    result = run_entry_point("stage1-dice-roller", {"DICE_ROLLER_RISKY_FAILURE_RATE": "2"})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "stage1-dice-roller: invalid setting DICE_ROLLER_RISKY_FAILURE_RATE: "
        "Input should be less than or equal to 1"
    ]


@pytest.mark.parametrize(
    "env",
    [
        {"OTEL_SDK_DISABLED": "true"},  # tracing switched off the standard way
        {"OTEL_EXPORTER_OTLP_ENDPOINT": ""},  # no collector: no exporter at all
    ],
)
def test_without_export_there_are_no_export_errors(start_service, otlp_receiver, env) -> None:
    port = free_port()
    service = start_service(
        "stage1-dice-roller",
        {
            "DICE_ROLLER_PORT": str(port),
            # Where export would fail, were anything exported.
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{free_port()}",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            **env,
        },
        port,
    )
    for _ in range(3):
        assert httpx.get(f"{service.base_url}/roll?die=fair", timeout=5).status_code == 200
    service.stop()
    output = service.stdout() + service.stderr()
    assert "Failed to export" not in output and "Traceback" not in output, output
