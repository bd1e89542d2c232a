"""Stage 2: the Streamlit frontend calls the dice-roller. The page and its process; the trace a
click makes across both services is in the signal matrix (test_stage_signals.py)."""

from pathlib import Path

import httpx
import pytest
import streamlit as st
from lab_telemetry.testing import OtlpReceiver
from streamlit.testing.v1 import AppTest

from tests.support.paths import REPO
from tests.support.ports import free_port, occupied_port
from tests.support.processes import run_entry_point

PAGE = REPO / "packages/stage2/src/stage2/page.py"


@pytest.fixture
def dice_roller(start_service, otlp_receiver: OtlpReceiver):
    port = free_port()
    return start_service(
        "stage2-dice-roller",
        {
            "DICE_ROLLER_PORT": str(port),
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "DICE_ROLLER_RISKY_FAILURE_RATE": "0",
            "DICE_ROLLER_RISKY_SLOW_RATE": "0",
        },
        port,
    )


def page_test(monkeypatch: pytest.MonkeyPatch, dice_roller_url: str) -> AppTest:
    monkeypatch.setenv("FRONTEND_DICE_ROLLER_URL", dice_roller_url)
    monkeypatch.setenv("FRONTEND_METRICS_PORT", str(free_port()))
    st.cache_resource.clear()  # the runtime is made once per process; make it with these settings
    app = AppTest.from_file(str(PAGE), default_timeout=30)
    app.run()
    assert not app.exception
    return app


def test_page_rolls_and_keeps_the_sessions_history(dice_roller, monkeypatch) -> None:
    app = page_test(monkeypatch, dice_roller.base_url)
    assert app.info[0].value == "Pick a die and roll it."
    app.button(key="roll").click().run()
    app.radio(key="die").set_value("risky").run()
    app.button(key="roll").click().run()
    assert not app.exception
    assert app.metric[0].label == "The risky die rolled"
    assert int(app.metric[0].value) in range(1, 7)
    rows = app.table[0].value
    assert list(rows["die"]) == ["risky", "fair"]
    assert "/explore?" in app.markdown[0].value


def test_dice_roller_down_shows_a_readable_message(monkeypatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    app = page_test(monkeypatch, url)
    app.button(key="roll").click().run()
    assert not app.exception
    assert app.error[0].value == f"The dice-roller at {url} is not answering. Is it running?"


def test_the_page_file_is_what_the_entry_point_serves() -> None:
    import stage2.frontend

    assert Path(stage2.frontend.__file__).with_name("page.py") == PAGE


def test_the_frontends_metrics_answer_before_any_page_view(start_service) -> None:
    # They used to open with the first page view, so Prometheus saw the frontend down until then.
    port, metrics_port = free_port(), free_port()
    start_service(
        "stage2-frontend",
        {"FRONTEND_PORT": str(port), "FRONTEND_METRICS_PORT": str(metrics_port)},
        port,
        ready_path="/_stcore/health",
    )
    metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    assert 'frontend_rolls_total{die="fair",outcome="ok"} 0.0' in metrics


def test_a_busy_metrics_port_is_one_line(tmp_path) -> None:
    with occupied_port() as busy:
        result = run_entry_point(
            "stage2-frontend",
            {
                "FRONTEND_PORT": str(free_port()),
                "FRONTEND_METRICS_PORT": str(busy),
                "HOME": str(tmp_path),
            },
        )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"stage2-frontend: cannot serve metrics on 127.0.0.1:{busy}: Address already in use"
    ]


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_a_port_out_of_range_is_one_line(port: str) -> None:
    result = run_entry_point("stage2-frontend", {"FRONTEND_PORT": port})
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("stage2-frontend: invalid setting FRONTEND_PORT:")
