"""The dice-roller as a user runs it: `dice-roller`, a real process on a free loopback port."""

import json
import re
import signal

import httpx
import pytest
from lab_telemetry.testing import OtlpReceiver, poll_until

from tests.support.ports import occupied_port
from tests.support.processes import run_entry_point


def test_rolls_3d6_and_prints_no_exporter_errors_with_the_sdk_off(start_dice_roller) -> None:
    service = start_dice_roller(OTEL_SDK_DISABLED="true", OTEL_EXPORTER_OTLP_ENDPOINT="")
    body = httpx.get(f"{service.base_url}/roll/3d6", timeout=5).json()
    assert len(body["rolls"]) == 3
    assert all(1 <= value <= 6 for value in body["rolls"])
    assert body["total"] == sum(body["rolls"])
    bad = httpx.get(f"{service.base_url}/roll/3d6+", timeout=5)
    assert bad.status_code == 422
    assert "NdM" in bad.json()["detail"][0]["msg"]

    service.stop()
    stderr = service.stderr()
    assert "Exception" not in stderr and "Failed to export" not in stderr, stderr
    lines = [json.loads(line) for line in service.stdout().splitlines()]
    rolls = [
        line
        for line in lines
        if line["logger"] == "uvicorn.access" and line["path"].startswith("/roll/")
    ]
    assert [line["status"] for line in rolls] == [200, 422]
    assert not any("trace_id" in line for line in rolls)  # nothing traced, no ids invented


def test_zero_code_gives_one_server_span_per_request_with_the_stable_attributes(
    start_dice_roller, otlp_receiver: OtlpReceiver
) -> None:
    service = start_dice_roller()
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    httpx.get(
        f"{service.base_url}/roll/2d20+3?via=test", headers={"traceparent": traceparent}, timeout=5
    )
    for _ in range(4):
        httpx.get(f"{service.base_url}/roll/1d6", timeout=5).raise_for_status()
    httpx.get(f"{service.base_url}/healthz", timeout=5)
    httpx.get(f"{service.base_url}/metrics", timeout=5)

    def server_spans() -> list:
        return [s for s in otlp_receiver.find(service="dice-roller") if s.kind == 2]

    servers = poll_until(lambda: len(s := server_spans()) == 5 and s, timeout=15, what="5 spans")
    # FastAPI's own tracing stood aside for the launcher's instrumentation: not 10 spans.
    assert {s.name for s in servers} == {"GET /roll/{dice}"}
    first = next(s for s in servers if s.trace_id == "0af7651916cd43dd8448eb211c80319c")
    assert first.parent_span_id == "b7ad6b7169203331"  # W3C context was continued
    assert first.attributes["url.query"] == "via=test"
    assert first.attributes["http.route"] == "/roll/{dice}"
    assert first.attributes["http.response.status_code"] == 200
    assert "http.method" not in first.attributes  # the stable names only
    paths = {s.attributes.get("url.path") for s in servers}
    assert "/healthz" not in paths and "/metrics" not in paths

    # The latency histogram's exemplar is one of these requests' trace ids.
    text = httpx.get(
        f"{service.base_url}/metrics", headers={"Accept": "application/openmetrics-text"}
    ).text
    exemplar_ids = set(re.findall(r'# \{trace_id="([0-9a-f]{32})"\}', text))
    assert exemplar_ids and exemplar_ids <= {s.trace_id for s in servers}


@pytest.mark.parametrize(("stop", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_stopping_exports_the_queued_spans_and_flushes_the_log(
    start_dice_roller, otlp_receiver: OtlpReceiver, stop: signal.Signals, status: int
) -> None:
    # kill and systemd send SIGTERM; nothing may be exported on a timer before it arrives.
    service = start_dice_roller(OTEL_BSP_SCHEDULE_DELAY="600000")
    for _ in range(3):
        httpx.get(f"{service.base_url}/roll/1d6", timeout=5).raise_for_status()
    assert otlp_receiver.find(service="dice-roller") == []

    service.process.send_signal(stop)
    assert service.process.wait(timeout=30) == status
    servers = [s for s in otlp_receiver.find(service="dice-roller") if s.kind == 2]
    assert len(servers) == 3
    rolls = [line for line in service.log_lines() if line.get("event") == "roll"]
    assert len(rolls) == 3
    assert "Traceback" not in service.stderr()


def test_a_bad_setting_is_one_line_and_a_nonzero_exit(tmp_path) -> None:

    result = run_entry_point("dice-roller", {"DICE_ROLLER_PORT": "not-a-port"})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "dice-roller: invalid setting DICE_ROLLER_PORT: Input should be a valid integer, "
        "unable to parse string as an integer"
    ]


@pytest.mark.parametrize("port", ["70000", "-1", "0"])
def test_a_port_out_of_range_is_one_line_not_another_port(port: str) -> None:
    # 70000 used to bind 4464 (70000 mod 65536), silently.
    result = run_entry_point("dice-roller", {"DICE_ROLLER_PORT": port})
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("dice-roller: invalid setting DICE_ROLLER_PORT:")


def test_a_busy_port_is_one_line_naming_it() -> None:
    with occupied_port() as busy:
        result = run_entry_point("dice-roller", {"DICE_ROLLER_PORT": str(busy)})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"dice-roller: cannot listen on 127.0.0.1:{busy}: Address already in use"
    ]
    assert result.stdout == ""
