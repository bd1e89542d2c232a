"""Every chapter's PromQL selects its own stage, shown on a real Prometheus.

Stage 6's services (which do everything the earlier stages do) run under traffic with the SLO
rules (windows 60 times shorter, so the page alert fires), labelled as compose would label
`stage-6`. Every PromQL query of every chapter is asked twice: for the running stage (its stage
name made `stage-6`) and as written for a stage that is not running (`stage-5` for chapter 6's).
A query that finds the running stage's data must find nothing for the other: its stage filter is
what keeps another stage's series out. Each chapter has at least one query with data, so the
check is not vacuous; LogQL and TraceQL are checked to carry their stage selector by their
grammars (tests/config/test_query_grammars.py).
"""

import re
import threading

import httpx
import pytest
from lab_telemetry.testing import poll_until

from tests.config.test_query_grammars import doc_queries
from tests.integration.test_dashboard_queries import Scenario, slos
from tests.support.traffic import background_traffic

RUNNING = "stage-6"


def chapter_promql() -> dict[str, list[str]]:
    """Chapter's stage name -> its PromQL queries."""
    queries: dict[str, list[str]] = {}
    for where, language, query in doc_queries():
        chapter = re.match(r"(stage-\d)\.md:", where)
        if chapter and language == "promql":
            queries.setdefault(chapter.group(1), []).append(query)
    return queries


@pytest.mark.timeout(600)
def test_each_chapters_promql_finds_its_stage_and_nothing_of_another(
    start_service, start_prometheus, tmp_path, request
) -> None:
    scenario = Scenario(start_service, tmp_path, request)
    slos(scenario)
    prometheus = start_prometheus(
        scenario.jobs, labels=scenario.labels, top_level=scenario.top_level
    )
    stop = threading.Event()
    threading.Thread(
        target=background_traffic, args=(scenario.urls, stop, 300), daemon=True
    ).start()
    try:
        poll_until(
            lambda: prometheus.query("min(count_over_time(up[1m])) >= 3"),
            timeout=90,
            what="three scrapes of every job",
        )
        prometheus.wait_for(scenario.wait_for, timeout=120)

        def answer(query: str) -> list[dict]:
            response = httpx.get(
                f"{prometheus.base_url}/api/v1/query", params={"query": query}, timeout=10
            )
            assert response.status_code == 200, f"{query}: {response.text}"
            return response.json()["data"]["result"]

        chapters = chapter_promql()
        assert set(chapters) == {f"stage-{n}" for n in range(1, 8)}
        leaks, without_data = [], []
        for stage, queries in sorted(chapters.items()):
            other = "stage-5" if stage == RUNNING else stage
            found = 0
            for query in queries:
                here = query.replace(f'"{stage}"', f'"{RUNNING}"')
                if not answer(here):
                    continue
                found += 1
                if result := answer(query.replace(f'"{stage}"', f'"{other}"')):
                    leaks.append(f"{stage}: {query} finds {RUNNING}'s series: {result[:1]}")
            if not found:
                without_data.append(stage)
        assert not leaks, "\n".join(leaks)
        assert not without_data, f"no query of these chapters found data: {without_data}"
    finally:
        stop.set()
