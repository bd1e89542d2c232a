"""The chapters' proofs on the whole stack, where Grafana, Loki, Tempo, Pyroscope and Alloy can be
pulled (the GitHub workflow, a learner's laptop); where they cannot, these tests say so and skip,
as test_full_stack.py does.

Stages 1 to 5 and 7 come up through their nox sessions and get traffic from traffic-gen, as a
learner runs them; then every query of chapters 1 to 5's "Queries that prove it works" (PromQL,
LogQL and TraceQL) returns data from Prometheus, Loki and Tempo: among them stage 2's
service-graph series with its stage's label, written by Tempo from the spans. Chapter 7's walk is
asked of Pyroscope: its flame graph names the planted function, the slow rolls' spans carry their
profile id, and the switch's lines reach Loki. Grafana's pages a chapter shows (a dashboard, a
trace's waterfall, the jump from a span to its logs, stage 7's flame graph) are photographed into
build/screenshots/grafana/ for review (the workflow keeps them as an artifact).

    uv run nox -s smoke -- tests/docker/test_chapters_on_the_stack.py
"""

import re
import subprocess
import time
from collections.abc import Iterator

import httpx
import lab_stages
import pytest
from lab_telemetry.testing import poll_until

from tests.docker.lab import Lab, prometheus
from tests.support import browser
from tests.support.paths import REPO

pytestmark = [pytest.mark.docker, pytest.mark.timeout(1800)]

LOKI = "http://127.0.0.1:3100"
TEMPO = "http://127.0.0.1:3200"
GRAFANA = "http://127.0.0.1:3000"
PYROSCOPE = "http://127.0.0.1:4040"
STAGES = (1, 2, 3, 4, 5, 7)
PROVED_INLINE = (1, 2, 3, 4, 5)  # chapters whose proofs hold with traffic alone
SCREENSHOTS = REPO / "build" / "screenshots" / "grafana"


def proofs(stage: int) -> list[tuple[str, str]]:
    """(language, query) of the chapter's "Queries that prove it works"."""
    text = (REPO / "tutorials" / f"stage-{stage}.md").read_text()
    section = text.split("## Queries that prove it works", 1)[1].split("\n## ", 1)[0]
    return [
        (m[0].lower(), m[1]) for m in re.findall(r"\b(LogQL|TraceQL|PromQL) `([^`]+)`", section)
    ]


def loki(query: str) -> list:
    now = time.time_ns()
    response = httpx.get(
        f"{LOKI}/loki/api/v1/query_range",
        params={"query": query, "start": now - 900 * 10**9, "end": now, "limit": 10},
        timeout=10,
    )
    assert response.status_code == 200, f"{query}: {response.text}"
    return response.json()["data"]["result"]


def tempo(query: str) -> list:
    now = int(time.time())
    response = httpx.get(
        f"{TEMPO}/api/search",
        params={"q": query, "start": now - 900, "end": now, "limit": 5},
        timeout=10,
    )
    assert response.status_code == 200, f"{query}: {response.text}"
    return response.json().get("traces", [])


def flame_graph_names(query: str) -> list[str]:
    """The function names in Pyroscope's flame graph of the last 15 minutes (its render API,
    pkg/api/api.go at v2.2.1; the JSON flamebearer profile)."""
    now = int(time.time() * 1000)
    response = httpx.get(
        f"{PYROSCOPE}/pyroscope/render",
        params={"query": query, "from": now - 900_000, "until": now},
        timeout=30,
    )
    assert response.status_code == 200, f"{query}: {response.text}"
    return response.json()["flamebearer"]["names"]


ASK = {"promql": prometheus, "logql": loki, "traceql": tempo}


def click_roll(page, url: str, times: int = 3) -> str:
    """Roll the fair die on a stage's page, as a learner does; the trace link it shows."""
    page.goto(url)
    for _ in range(times):
        page.get_by_test_id("stRadio").get_by_text("fair", exact=True).click()
        page.get_by_role("button", name="Roll", exact=True).click()
        page.get_by_text("The fair die rolled").wait_for()
    return page.locator("a[href*='/explore?']").get_attribute("href")


@pytest.fixture(scope="module")
def stages_with_traffic(lab: Lab) -> Iterator[dict[int, str]]:
    """Stages 1-5 up, traffic-gen driving each all through the module's tests (a proof such as
    `rate(...[1m]) > 0` needs traffic now), and rolls clicked on each page (the traces that start
    in a frontend); the trace link each page showed, by stage."""
    missing = lab.held_back("stack")
    if missing:
        pytest.skip(
            f"no image on this engine for {', '.join(sorted(missing))} (or for what they need)"
        )
    for stage in STAGES:
        lab.nox("-s", f"stage-{stage}")
    traffic = [
        subprocess.Popen(
            ["uv", "run", "--locked", "traffic-gen", "--target", f"stage-{stage}",
             "--users", "2", "--duration", "1200", "--json"],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        for stage in STAGES
    ]  # fmt: skip
    try:
        links = {}
        with browser.browser_page() as page:
            for stage in STAGES:
                frontend = lab_stages.app(f"stage-{stage}").find("frontend")
                if frontend is not None:
                    links[stage] = click_roll(page, frontend.url)
        stopped = [p.args for p in traffic if p.poll() is not None]
        assert not stopped, f"traffic-gen stopped early: {stopped}"
        yield links
    finally:
        for process in traffic:
            process.terminate()
            process.wait(timeout=30)


@pytest.mark.parametrize("stage", PROVED_INLINE)
def test_each_chapters_proofs_return_data(stages_with_traffic, stage) -> None:
    queries = proofs(stage)
    assert queries, f"stage-{stage}.md proves nothing"
    for language, query in queries:
        poll_until(
            lambda q=query, ask=ASK[language]: ask(q),
            timeout=240,
            interval=5,
            what=f"stage-{stage}.md: {language} {query}",
        )


def test_chapter_7s_walk_on_pyroscope(stages_with_traffic) -> None:
    """Slow rolls' spans carry a profile id, the flame graph names simulate_fairness, and the
    switch's WARNING line and usage event reach Loki; the switch is put back after."""
    text = (REPO / "tutorials" / "stage-7.md").read_text()
    (profile_query,) = re.findall(r"```pyroscope\n(.+?)\n```", text)
    poll_until(
        lambda: any("simulate_fairness" in name for name in flame_graph_names(profile_query)),
        timeout=240,
        interval=10,
        what=f"simulate_fairness in the flame graph of {profile_query}",
    )
    poll_until(
        lambda: tempo(
            '{resource.service.namespace="stage-7" && name="fastapi.endpoint"'
            ' && span.pyroscope.profile.id =~ ".+"}'
        ),
        timeout=120,
        what="stage 7 spans with a profile id",
    )
    roller = lab_stages.app("stage-7").find("dice-roller").url
    switch = f"{roller}/fairness-check"
    try:
        assert httpx.put(switch, json={"cache": True}, timeout=10).status_code == 200
        for query in (
            '{compose_project="stage-7", service_name="dice-roller"} |= "fairness check: cache"',
            '{compose_project="stage-7", usage="true"} | json | event="set_fairness_check"',
        ):
            assert query in text, f"chapter 7 no longer proves itself with {query}"
            poll_until(lambda q=query: loki(q), timeout=120, interval=5, what=query)
    finally:
        httpx.put(switch, json={"cache": False}, timeout=10)


def test_grafana_pages_for_review(lab, stages_with_traffic) -> None:
    """A dashboard; the trace a page's link opens in Grafana; its logs one click away
    (the Tempo datasource's tracesToLogsV2)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    trace_link = stages_with_traffic[2]
    with browser.browser_page() as page:
        page.set_viewport_size({"width": 1600, "height": 1000})
        password = lab.secret("GRAFANA_ADMIN_PASSWORD")
        login = page.request.post(f"{GRAFANA}/login", data={"user": "admin", "password": password})
        assert login.ok, login.text()

        page.goto(f"{GRAFANA}/d/lab-stage-2?orgId=1&from=now-15m&to=now")
        page.get_by_text("Calls between services per second").first.wait_for()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=SCREENSHOTS / "dashboard-stage-2.png", full_page=True)

        page.goto(f"{GRAFANA}/d/lab-stage-7?orgId=1&from=now-15m&to=now")
        page.get_by_text("CPU of the dice-roller over the time range").first.wait_for()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=SCREENSHOTS / "dashboard-stage-7-flame-graph.png", full_page=True)

        # The link the stage 2 page showed after a roll, as a learner follows it.
        page.goto(trace_link)
        page.get_by_text("roll die").first.wait_for()
        page.screenshot(path=SCREENSHOTS / "trace-waterfall.png", full_page=True)

        # The dice-roller's server span; its logs (JSON lines with their trace id) in Loki.
        page.get_by_text("GET /roll", exact=True).first.click()
        page.get_by_text("Logs for this span").first.click()
        page.get_by_text('"trace_id"').first.wait_for()
        page.screenshot(path=SCREENSHOTS / "trace-to-logs.png", full_page=True)
