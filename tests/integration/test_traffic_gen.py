"""traffic-gen against real stage processes on 127.0.0.1."""

import json
import re
import subprocess
from collections import Counter

import httpx
import pytest
from lab_telemetry.testing import OtlpReceiver, poll_until

from tests.support.ports import free_port
from tests.support.processes import entry_point


def traffic_gen(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [entry_point("traffic-gen"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    )


@pytest.fixture
def stage1(start_service):
    def start(**env: str):
        port = free_port()
        return start_service(
            "stage1-dice-roller",
            {"DICE_ROLLER_PORT": str(port), "OTEL_EXPORTER_OTLP_ENDPOINT": "", **env},
            port,
        )

    return start


def served_counts(base_url: str) -> dict[str, float]:
    """http_requests_total for /roll by status class, as the service counted them."""
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    pattern = r'http_requests_total\{handler="/roll",method="GET",status="(\dxx)"\} ([\d.]+)'
    return {status: float(count) for status, count in re.findall(pattern, text)}


def test_a_bounded_run_counts_what_the_service_counted(stage1) -> None:
    service = stage1(DICE_ROLLER_RISKY_FAILURE_RATE="1", DICE_ROLLER_RISKY_SLOW_RATE="0")
    result = traffic_gen(
        "--target",
        "stage-1",
        "--base-url",
        service.base_url,
        "--users",
        "4",
        "--max-requests-per-user",
        "25",
        "--think-time",
        "0-0",
        "--seed",
        "3",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    roll = summary["endpoints"]["GET /roll"]
    assert summary["requests"] == roll["requests"] == 100
    # Every risky roll fails (rate 1): traffic-gen reports those 500s as errors.
    assert roll["errors"] == {"500": summary["errors"]} and summary["errors"] > 0
    assert served_counts(service.base_url) == {
        "2xx": 100 - summary["errors"],
        "5xx": summary["errors"],
    }


def test_the_same_seed_sends_the_same_requests_twice(stage1) -> None:
    service = stage1(DICE_ROLLER_RISKY_FAILURE_RATE="0", DICE_ROLLER_RISKY_SLOW_RATE="0")
    args = (
        "--target",
        "stage-1",
        "--base-url",
        service.base_url,
        "--users",
        "3",
        "--max-requests-per-user",
        "20",
        "--think-time",
        "0-0",
        "--json",
    )

    def rolls_logged() -> list[str]:
        return [
            line["path"]
            for line in service.log_lines()
            if line.get("logger") == "uvicorn.access" and line["path"].startswith("/roll")
        ]

    def paths_sent(seed: str) -> Counter:
        before = len(rolls_logged())
        assert traffic_gen(*args, "--seed", seed).returncode == 0
        poll_until(lambda: len(rolls_logged()) == before + 60, timeout=10)
        return Counter(rolls_logged()[before:])

    first, second = paths_sent("11"), paths_sent("11")
    assert sum(first.values()) == 60
    assert first == second
    assert paths_sent("12") != first


def test_traces_start_at_traffic_gen(stage1, otlp_receiver: OtlpReceiver) -> None:
    service = stage1(
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.endpoint,
        OTEL_BSP_SCHEDULE_DELAY="100",
    )
    result = traffic_gen(
        "--target",
        "stage-1",
        "--base-url",
        service.base_url,
        "--users",
        "1",
        "--max-requests-per-user",
        "3",
        "--think-time",
        "0-0",
        env={"OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint},
    )
    assert result.returncode == 0, result.stderr
    client_spans = poll_until(
        lambda: len(s := otlp_receiver.find(service="traffic-gen")) == 3 and s, timeout=15
    )
    servers = poll_until(
        lambda: len(s := otlp_receiver.find(service="dice-roller", kind=2)) == 3 and s,
        timeout=15,
    )
    parents = {span.span_id: span for span in client_spans}
    for server in servers:
        client = parents[server.parent_span_id]
        assert client.trace_id == server.trace_id and client.parent_span_id == ""
        assert client.name == "GET /roll" and client.kind == 3  # SPAN_KIND_CLIENT


def test_stage_3_rolls_the_dice_the_die_service_offers(start_service) -> None:
    die_port, roller_port = free_port(), free_port()
    die = start_service("stage3-die-service", {"DIE_SERVICE_PORT": str(die_port)}, die_port)
    roller = start_service(
        "stage3-dice-roller",
        {"DICE_ROLLER_PORT": str(roller_port), "DICE_ROLLER_DIE_SERVICE_URL": die.base_url},
        roller_port,
    )
    result = traffic_gen(
        "--target",
        "stage-3",
        "--base-url",
        roller.base_url,
        "--die-service-url",
        die.base_url,
        "--users",
        "5",
        "--max-requests-per-user",
        "40",
        "--think-time",
        "0-0",
        "--seed",
        "1",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    rolled = Counter(
        re.search(r"die=([\w-]+)", line["path"]).group(1)
        for line in roller.log_lines()
        if line.get("logger") == "uvicorn.access" and line["path"].startswith("/roll")
    )
    assert {"fair", "risky", "loaded", "d20"} <= rolled.keys()


def test_an_unreachable_target_is_one_line_and_exit_1() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = traffic_gen("--target", "stage-1", "--base-url", url, "--duration", "1")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"traffic-gen: {url}/healthz is not answering; start it with `uv run nox -s stage-1`"
    ]
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--users", "0"], "traffic-gen: --users: Input should be greater than or equal to 1"),
        (["--think-time", "5-1"], "traffic-gen: --think-time: MIN must not exceed MAX in '5-1'"),
        (
            ["--think-time", "soon"],
            "traffic-gen: --think-time: expected MIN-MAX seconds, e.g. 0.5-2, not 'soon'",
        ),
        # Not numbers a run can wait for: accepted before, and a run that never paused.
        (
            ["--think-time", "nan-nan"],
            "traffic-gen: --think-time: expected MIN-MAX seconds, e.g. 0.5-2, not 'nan-nan'",
        ),
        (["--duration", "inf"], "traffic-gen: --duration: Input should be a finite number"),
        (["--target", "stage-9"], "traffic-gen: argument --target: invalid choice: 'stage-9'"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = traffic_gen(*args)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(message)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"NUM_USERS": "0"}, "traffic-gen: NUM_USERS: Input should be greater than or equal to 1"),
        ({"TRAFFIC_USERS": "many"}, "traffic-gen: TRAFFIC_USERS: Input should be a valid integer"),
        ({"TRAFFIC_THINK_TIME": "inf-inf"}, "traffic-gen: TRAFFIC_THINK_TIME: expected MIN-MAX"),
    ],
)
def test_a_bad_environment_variable_is_named_as_it_was_set(env, message: str) -> None:
    # It used to name a flag (--users) nobody had given.
    result = traffic_gen(env=env)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(message)


def test_every_request_failing_exits_nonzero(stage1) -> None:
    service = stage1(DICE_ROLLER_RISKY_FAILURE_RATE="1", DICE_ROLLER_RISKY_SLOW_RATE="0")
    # The dice-roller target's /roll/{dice} does not exist on stage 1: every request is a 404.
    result = traffic_gen(
        "--target",
        "dice-roller",
        "--base-url",
        service.base_url,
        "--users",
        "2",
        "--max-requests-per-user",
        "5",
        "--think-time",
        "0-0",
    )
    assert result.returncode == 1
    assert result.stderr.strip().endswith("traffic-gen: every request failed")
    assert "GET /roll/{dice}" in result.stdout


def test_the_seeds_environment_variable_names_still_work(stage1) -> None:
    service = stage1(DICE_ROLLER_RISKY_FAILURE_RATE="0", DICE_ROLLER_RISKY_SLOW_RATE="0")
    result = traffic_gen(
        "--target",
        "stage-1",
        "--base-url",
        service.base_url,
        "--think-time",
        "0-0",
        "--json",
        env={"NUM_USERS": "2", "MAX_REQUESTS_PER_USER": "3"},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["requests"] == 6


def test_ctrl_c_stops_cleanly_and_still_prints_the_summary(stage1) -> None:
    import signal

    service = stage1(DICE_ROLLER_RISKY_FAILURE_RATE="0", DICE_ROLLER_RISKY_SLOW_RATE="0")
    process = subprocess.Popen(
        [
            entry_point("traffic-gen"),
            "--target",
            "stage-1",
            "--base-url",
            service.base_url,
            "--users",
            "3",
            "--think-time",
            "0.01-0.02",
            "--duration",
            "600",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        poll_until(lambda: len(service.log_lines()) > 20, timeout=30, what="traffic to flow")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr
    summary = json.loads(stdout)
    assert summary["requests"] > 0 and summary["errors"] == 0


def test_in_a_terminal_it_shows_live_progress_then_the_table(stage1) -> None:
    import os
    import pty
    import re

    service = stage1(DICE_ROLLER_RISKY_FAILURE_RATE="0", DICE_ROLLER_RISKY_SLOW_RATE="0")
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [
            entry_point("traffic-gen"),
            "--target",
            "stage-1",
            "--base-url",
            service.base_url,
            "--users",
            "2",
            "--think-time",
            "0.01-0.02",
            "--duration",
            "2.5",
        ],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env={"PATH": "/usr/bin:/bin", "TERM": "xterm"},
    )
    os.close(terminal)
    output = b""
    try:
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            output += chunk
    finally:
        process.wait(timeout=30)
        os.close(controller)
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", output.decode(errors="replace"))
    assert process.returncode == 0
    assert re.search(r"requests\s+\d+\s+errors\s+0\s+rate\s+[\d.]+/s", text), text[-500:]
    assert "GET /roll" in text and "p95 ms" in text
