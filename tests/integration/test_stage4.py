"""Stage 4: GET /roll-async rolls concurrently; sibling roll spans overlap in one trace."""

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from lab_telemetry.testing import OtlpReceiver, poll_until

from tests.support.ports import free_port


@pytest.fixture
def stage4(start_service, otlp_receiver: OtlpReceiver):
    die_port, roller_port = free_port(), free_port()
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    die = start_service("stage4-die-service", {**env, "DIE_SERVICE_PORT": str(die_port)}, die_port)
    roller = start_service(
        "stage4-dice-roller",
        {
            **env,
            "DICE_ROLLER_PORT": str(roller_port),
            "DICE_ROLLER_DIE_SERVICE_URL": die.base_url,
        },
        roller_port,
    )
    return die, roller


def test_ten_concurrent_rolls_are_ten_overlapping_sibling_spans(stage4, otlp_receiver) -> None:
    _, roller = stage4
    body = httpx.get(f"{roller.base_url}/roll-async?die=fair&times=10", timeout=10).json()
    assert body["times"] == 10 and body["failed"] == 0
    assert len(body["values"]) == 10 and body["sum"] == sum(body["values"])
    assert sum(body["distribution"].values()) == 10

    (server,) = poll_until(
        lambda: otlp_receiver.find(service="dice-roller", name="GET /roll-async"), timeout=15
    )
    # Spans started in the handler are children of FastAPI's endpoint operation span.
    (endpoint,) = poll_until(
        lambda: otlp_receiver.find(name="fastapi.endpoint", parent_span_id=server.span_id)
    )
    rolls = poll_until(
        lambda: (
            len(s := otlp_receiver.find(name="roll", parent_span_id=endpoint.span_id)) == 10 and s
        ),
        timeout=15,
        what="ten roll spans",
    )
    assert {s.trace_id for s in rolls} == {server.trace_id}
    # Concurrency, not a loop: every roll started before any of them ended.
    assert max(s.start_ns for s in rolls) < min(s.end_ns for s in rolls)
    assert sorted(s.attributes["value"] for s in rolls) == sorted(body["values"])


@pytest.mark.parametrize("times", ["0", "101", "-3"])
def test_times_out_of_range_is_a_422_saying_the_range(stage4, times: str) -> None:
    _, roller = stage4
    response = httpx.get(f"{roller.base_url}/roll-async?die=fair&times={times}", timeout=10)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["query", "times"]
    assert error["msg"] in {
        "Input should be greater than or equal to 1",
        "Input should be less than or equal to 100",
    }


def test_concurrent_fan_outs_past_the_limit_get_a_503_with_retry_after(
    start_service, tmp_path
) -> None:
    # A die that always takes two seconds keeps each fan-out running while the others arrive.
    dice = tmp_path / "dice.json"
    dice.write_text(
        json.dumps(
            [{"name": "slow", "faces": [1, 2], "slow_rate": 1, "delay_range_seconds": [2, 2]}]
        )
    )
    die_port, roller_port = free_port(), free_port()
    die = start_service(
        "stage4-die-service",
        {"DIE_SERVICE_PORT": str(die_port), "DIE_SERVICE_DICE_FILE": str(dice)},
        die_port,
    )
    roller = start_service(
        "stage4-dice-roller",
        {
            "DICE_ROLLER_PORT": str(roller_port),
            "DICE_ROLLER_DIE_SERVICE_URL": die.base_url,
            "DICE_ROLLER_MAX_CONCURRENT_FANOUTS": "2",
        },
        roller_port,
    )
    url = f"{roller.base_url}/roll-async?die=slow&times=1"
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(lambda _: httpx.get(url, timeout=30), range(5)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(200) >= 1 and statuses.count(503) >= 1, statuses
    assert set(statuses) == {200, 503} and statuses.count(200) <= 2
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["Retry-After"] == "1"
    assert "concurrent rolls are already running" in busy.json()["detail"]
    assert httpx.get(url, timeout=30).status_code == 200  # free again once they finish


def test_unknown_die_and_single_rolls_still_work(stage4) -> None:
    _, roller = stage4
    assert httpx.get(f"{roller.base_url}/roll-async?die=nope&times=3").status_code == 404
    assert httpx.get(f"{roller.base_url}/roll?die=d20").json()["value"] in range(1, 21)


def test_frontend_rolls_many_and_charts_them(start_service, stage4, browser_page) -> None:
    die, roller = stage4
    port = free_port()
    start_service(
        "stage4-frontend",
        {
            "FRONTEND_PORT": str(port),
            "FRONTEND_METRICS_PORT": str(free_port()),
            "FRONTEND_DICE_ROLLER_URL": roller.base_url,
            "FRONTEND_DIE_SERVICE_URL": die.base_url,
            "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        },
        port,
        ready_path="/_stcore/health",
    )
    page = browser_page
    page.goto(f"http://127.0.0.1:{port}")
    page.get_by_text("d20").click()
    page.get_by_label("How many dice at once").fill("30")
    page.get_by_label("How many dice at once").press("Enter")
    page.get_by_role("button", name="Roll 30 times").click()
    page.get_by_text("30 d20 dice rolled, in total").wait_for()
    total = int(page.get_by_test_id("stMetricValue").inner_text())
    assert 30 <= total <= 600
    page.locator("[data-testid='stVegaLiteChart'], .vega-embed").first.wait_for()
    page.get_by_role("cell", name="30", exact=True).first.wait_for()  # the history's dice column
