"""Stage 3: a die-service serves die specifications; the dice-roller asks it before rolling.

The trace across both, and their metrics and log lines: the signal matrix
(test_stage_signals.py); here, what a die-service that is down or a bad die name does."""

import json
import subprocess

import httpx
import pytest
import streamlit as st
from lab_telemetry.testing import OtlpReceiver, poll_until
from streamlit.testing.v1 import AppTest

from tests.support.paths import REPO
from tests.support.ports import free_port
from tests.support.processes import entry_point

TRACING = {"OTEL_BSP_SCHEDULE_DELAY": "100"}


@pytest.fixture
def stage3(start_service, otlp_receiver: OtlpReceiver):
    """Start the die-service (unless told it is down) and the dice-roller."""

    def start(die_service_up: bool = True):
        die_port, roller_port = free_port(), free_port()
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint, **TRACING}
        if die_service_up:
            die_env = {**env, "DIE_SERVICE_PORT": str(die_port)}
            die_service = start_service("stage3-die-service", die_env, die_port)
        roller = start_service(
            "stage3-dice-roller",
            {
                **env,
                "DICE_ROLLER_PORT": str(roller_port),
                "DICE_ROLLER_DIE_SERVICE_URL": f"http://127.0.0.1:{die_port}",
            },
            roller_port,
        )
        return (die_service if die_service_up else None), roller

    return start


def test_die_service_lists_and_serves_specs(stage3) -> None:
    die_service, _ = stage3()
    names = [d["name"] for d in httpx.get(f"{die_service.base_url}/dice").json()["dice"]]
    assert {"fair", "risky", "loaded"} <= set(names)
    loaded = httpx.get(f"{die_service.base_url}/dice/loaded").json()
    assert loaded["weights"] == [1, 1, 1, 1, 1, 5]
    missing = httpx.get(f"{die_service.base_url}/dice/nope")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no die named 'nope'"


def test_roll_rolls_the_die_the_die_service_describes(stage3) -> None:
    _, roller = stage3()
    body = httpx.get(f"{roller.base_url}/roll?die=d20").json()
    assert body["die"] == "d20" and 1 <= body["value"] <= 20


@pytest.mark.parametrize("die", ["%01", "../healthz", "../metrics", "", "fair%3Fx%3D1", "Fair"])
def test_a_die_name_that_is_not_one_is_a_422_before_any_url_is_built(stage3, die) -> None:
    # Each of these reached the die-service's URL: a 500, a wrong path, or a label per request.
    _, roller = stage3()
    response = httpx.get(f"{roller.base_url}/roll?die={die}")
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "die"]
    assert 'dice_rolls_total{die="fair?' not in httpx.get(f"{roller.base_url}/metrics").text


def test_die_service_down_is_a_503_with_a_message(stage3) -> None:
    _, roller = stage3(die_service_up=False)
    response = httpx.get(f"{roller.base_url}/roll?die=fair")
    assert response.status_code == 503
    assert "is not answering" in response.json()["detail"]


def test_a_bad_dice_file_stops_the_die_service_with_one_line(tmp_path) -> None:
    bad = tmp_path / "dice.json"
    bad.write_text(json.dumps([{"name": "fair", "faces": [1, 2], "weights": [1]}]))
    result = subprocess.run(
        [entry_point("stage3-die-service")],
        env={"DIE_SERVICE_DICE_FILE": str(bad), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"stage3-die-service: {bad}: entry 1 ('fair'): weights has 1 values but faces has 2"
    ]


def test_frontend_offers_the_die_services_dice(stage3, monkeypatch) -> None:
    die_service, roller = stage3()
    monkeypatch.setenv("FRONTEND_DICE_ROLLER_URL", roller.base_url)
    monkeypatch.setenv("FRONTEND_DIE_SERVICE_URL", die_service.base_url)
    monkeypatch.setenv("FRONTEND_METRICS_PORT", str(free_port()))
    st.cache_resource.clear()
    st.cache_data.clear()
    app = AppTest.from_file(str(REPO / "packages/stage3/src/stage3/page.py"), default_timeout=30)
    app.run()
    assert {"fair", "risky", "loaded", "d20"} <= set(app.radio(key="die").options)
    app.radio(key="die").set_value("d20").run()
    app.button(key="roll").click().run()
    assert not app.exception
    assert app.metric[0].label == "The d20 die rolled"


def test_frontend_with_the_die_service_down_says_so(monkeypatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("FRONTEND_DIE_SERVICE_URL", url)
    monkeypatch.setenv("FRONTEND_METRICS_PORT", str(free_port()))
    st.cache_resource.clear()
    st.cache_data.clear()
    app = AppTest.from_file(str(REPO / "packages/stage3/src/stage3/page.py"), default_timeout=30)
    app.run()
    assert not app.exception
    assert app.error[0].value == (
        f"The die-service at {url} is not answering, so there are no dice to pick."
    )


def test_a_503_for_a_die_service_down_is_logged_in_the_requests_trace(stage3, otlp_receiver):
    # The chapter's `|= "die-service"` finds these lines; they used to be absent.
    _, roller = stage3(die_service_up=False)
    assert httpx.get(f"{roller.base_url}/roll?die=fair").status_code == 503
    warning = roller.wait_for_log(level="WARNING", dependency="die-service")
    assert "die-service" in warning["message"] and "is not answering" in warning["message"]
    (server,) = poll_until(lambda: otlp_receiver.find(service="dice-roller", kind=2))
    assert warning["trace_id"] == server.trace_id
