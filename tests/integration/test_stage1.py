"""Stage 1: one dice-roller, a fair die and a risky one, as a real process.

Its metrics, spans and log lines: the signal matrix (tests/integration/test_stage_signals.py)."""

import httpx
import pytest
from lab_telemetry.testing import OtlpReceiver

from tests.support.ports import free_port
from tests.support.processes import run_entry_point


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


def test_fair_die_rolls_one_to_six(start_stage1) -> None:
    service = start_stage1()
    values = {
        httpx.get(f"{service.base_url}/roll?die=fair", timeout=5).json()["value"] for _ in range(30)
    }
    assert values <= set(range(1, 7)) and len(values) > 1


def test_unknown_die_is_a_422_listing_the_valid_ones(start_stage1) -> None:
    service = start_stage1()
    response = httpx.get(f"{service.base_url}/roll?die=loaded", timeout=5)
    assert response.status_code == 422
    (error,) = response.json()["detail"]  # FastAPI's standard validation body
    assert (error["loc"], error["msg"]) == (["query", "die"], "Input should be 'fair' or 'risky'")


def test_a_slow_risky_roll_that_does_not_fail_answers_after_the_delay(start_stage1) -> None:
    # The matrix's risky die is slow and then fails; this one is only slow.
    service = start_stage1(risky_failure_rate="0", risky_slow_rate="1", risky_delay_seconds="0.2")
    response = httpx.get(f"{service.base_url}/roll?die=risky", timeout=5)
    assert response.status_code == 200 and response.elapsed.total_seconds() >= 0.2
    usage = service.wait_for_log(event="roll")
    assert usage["usage"] is True and usage["attributes"]["die"] == "risky"


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
