"""Each chapter's hands-on step (`## Hands-on: ...` in tutorials/stage-N.md) and its solution,
tutorials/solutions/stage-N.patch.

Per stage, the patch applies to a copy of the stage's package source (never to the repository),
and the stage's services run as real processes twice: as installed, and with the patched copy's
`src` first on PYTHONPATH, which shadows the editable install (checked: the module the patch
changes is imported from the copy). Each run gets one request; what it emits is collected as
tests/integration/test_query_names.py collects it: span and resource attributes at an OTLP
receiver, JSON log fields as Loki's `| json` names them, metric and label names from /metrics.

Every name the chapter's hands-on queries use must be emitted by the patched run, and the ones
the unpatched run does not emit must be exactly those the patch adds (EXERCISES), which the
unpatched run must not emit: the query finds the change, and the test can fail.
test_query_names leaves the hands-on queries to this test; test_query_grammars parses them.
"""

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from lab_telemetry.testing import OtlpReceiver, ReceivedSpan
from prometheus_client.parser import text_string_to_metric_families

from tests.config.test_query_grammars import (
    HANDS_ON,
    alloy_stream_labels,
    alloy_structured_metadata,
    hands_on_queries,
    parse,
)
from tests.integration.test_query_names import SCRAPE_LABELS, json_fields, scraped
from tests.support.paths import REPO
from tests.support.ports import free_port
from tests.support.prerequisites import require_tool
from tests.support.processes import Service

STAGES = range(1, 8)
SOLUTIONS = REPO / "tutorials" / "solutions"
# What only the solution emits, as the grammars name it (tests/grammars/parse.mjs), and the
# function the chapter says to change.
EXERCISES = {
    1: ({("span", "die.value")}, "roll()"),
    2: ({("filter", "attributes_wait_ms")}, "roll()"),
    3: ({("metric", "die_lookups_total")}, "get_die()"),
    4: ({("span", "dice.times"), ("span", "dice.failed")}, "roll_many()"),
    5: ({("span", "die.name")}, "get_die()"),
    6: ({("filter", "previous_failure_rate")}, "set_faults()"),
    7: ({("span_name", "fairness check")}, "roll()"),
}
# The kinds of name each language's queries use (and TraceQL's "unscoped", which is "span" and
# "resource" together).
KINDS = {
    "logql": {"stream", "filter", "grouping"},
    "traceql": {"resource", "span", "span_name"},
    "promql": {"metric", "label"},
}
PREFIXES = {"die-service": "DIE_SERVICE_", "dice-roller": "DICE_ROLLER_", "frontend": "FRONTEND_"}


def chapter(number: int) -> str:
    return (REPO / f"tutorials/stage-{number}.md").read_text()


def patch_of(number: int) -> Path:
    return SOLUTIONS / f"stage-{number}.patch"


def patched_files(number: int) -> list[str]:
    """The repository paths the patch changes."""
    return re.findall(r"^diff --git a/(\S+) b/", patch_of(number).read_text(), re.MULTILINE)


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [require_tool("git", "apt-get install git"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def patched_copy(number: int, root: Path) -> None:
    """The stage's package source copied under `root` (a git repository of its own, so that
    `git apply` works on it and nothing else), with the solution applied."""
    package = f"packages/stage{number}/src/stage{number}"
    assert patched_files(number), f"{patch_of(number)} changes no file"
    assert all(path.startswith(f"{package}/") for path in patched_files(number)), (
        f"the solution of stage {number} changes files outside {package}"
    )
    shutil.copytree(REPO / package, root / package, ignore=shutil.ignore_patterns("__pycache__"))
    assert git("init", "--quiet", cwd=root).returncode == 0
    check = git("apply", "--check", str(patch_of(number)), cwd=root)
    assert check.returncode == 0, f"the solution does not apply (applied already?): {check.stderr}"
    applied = git("apply", str(patch_of(number)), cwd=root)
    assert applied.returncode == 0, applied.stderr
    undo = git("apply", "-R", "--check", str(patch_of(number)), cwd=root)
    assert undo.returncode == 0, f"git apply -R would not undo it: {undo.stderr}"


def imported_from(module: str, env: dict[str, str]) -> Path:
    """Where a process started with `env` imports `module` from."""
    script = "import importlib, sys; print(importlib.import_module(sys.argv[1]).__file__)"
    result = subprocess.run(
        [sys.executable, "-c", script, module],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return Path(result.stdout.strip())


@dataclass
class Run:
    """What a stage's services emitted for the request they were given."""

    spans: list[ReceivedSpan] = field(default_factory=list)
    log_lines: list[dict] = field(default_factory=list)
    series: dict[str, set[str]] = field(default_factory=dict)
    exposition: str = ""  # the first scraped service's /metrics
    answer: Any = None  # what the driver keeps for the stage's check

    def names(self) -> dict[str, set[str]]:
        """Every name a query could use, by kind, as test_query_names collects them."""
        return {
            "stream": alloy_stream_labels(),
            "filter": set().union(*(json_fields(line) for line in self.log_lines))
            | alloy_stream_labels()
            | alloy_structured_metadata(),
            "grouping": alloy_stream_labels(),
            "resource": {key for span in self.spans for key in span.resource},
            "span": {key for span in self.spans for key in span.attributes},
            "unscoped": {key for span in self.spans for key in (*span.attributes, *span.resource)},
            "span_name": {span.name for span in self.spans},
            "metric": set(self.series),
            "label": set().union(*self.series.values()) | SCRAPE_LABELS,
        }

    def span(self, **attributes: Any) -> ReceivedSpan:
        """The one span whose attributes hold these values."""
        found = [
            s for s in self.spans if all(s.attributes.get(k) == v for k, v in attributes.items())
        ]
        assert len(found) == 1, f"{len(found)} spans with {attributes}"
        return found[0]

    def children(self, span: ReceivedSpan) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.parent_span_id == span.span_id]

    def parent(self, span: ReceivedSpan) -> ReceivedSpan:
        (parent,) = [s for s in self.spans if s.span_id == span.parent_span_id]
        return parent


@dataclass
class Stage:
    """Starts a stage's services for one run: installed, or patched (`env` has PYTHONPATH)."""

    number: int
    start_service: Callable[..., Service]
    env: dict[str, str]
    receiver: OtlpReceiver
    request: pytest.FixtureRequest

    def service(self, name: str, ready_path: str = "/healthz", **settings: str) -> Service:
        port = free_port()
        prefix = PREFIXES[name]
        env = {
            **self.env,
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "OTEL_RESOURCE_ATTRIBUTES": f"service.namespace=stage-{self.number}",
            f"{prefix}PORT": str(port),
            **{prefix + key.upper(): value for key, value in settings.items()},
        }
        if name == "die-service" and self.number >= 5:
            env["DIE_SERVICE_DATABASE_URL"] = self.request.getfixturevalue("database")
        return self.start_service(f"stage{self.number}-{name}", env, port, ready_path=ready_path)

    def collect(self, services: list[Service], scrape: list[Service], answer: Any) -> Run:
        """Scrape `scrape`'s /metrics, stop every service (which exports its queued spans), and
        read what reached the receiver and their stdout."""
        run = Run(answer=answer)
        for service in scrape:
            run.exposition = run.exposition or httpx.get(f"{service.base_url}/metrics").text
            for name, labels in scraped(f"{service.base_url}/metrics").items():
                run.series.setdefault(name, set()).update(labels)
        for service in services:
            service.stop()
            assert service.process.returncode in (0, 130), service.stderr()
        run.spans = self.receiver.spans
        run.log_lines = [line for service in services for line in service.log_lines()]
        return run


def drive_1(stage: Stage) -> Run:
    roller = stage.service("dice-roller")
    answer = httpx.get(f"{roller.base_url}/roll", params={"die": "fair"}, timeout=10)
    assert answer.status_code == 200
    return stage.collect([roller], [roller], answer.json())


def drive_2(stage: Stage) -> Run:
    roller = stage.service("dice-roller")
    frontend = stage.service(
        "frontend",
        ready_path="/_stcore/health",
        dice_roller_url=roller.base_url,
        metrics_port=str(free_port()),
    )
    page = stage.request.getfixturevalue("browser_page")
    page.goto(frontend.base_url)
    page.get_by_role("button", name="Roll", exact=True).click()
    page.get_by_text("The fair die rolled").wait_for()
    line = frontend.wait_for_log(logger="usage", event="roll")
    return stage.collect([roller, frontend], [roller], line)


def drive_3(stage: Stage) -> Run:
    die_service = stage.service("die-service")
    roller = stage.service("dice-roller", die_service_url=die_service.base_url)
    answer = httpx.get(f"{roller.base_url}/roll", params={"die": "fair"}, timeout=10)
    assert answer.status_code == 200
    return stage.collect([roller, die_service], [die_service, roller], answer.json())


def drive_4(stage: Stage) -> Run:
    die_service = stage.service("die-service")
    roller = stage.service("dice-roller", die_service_url=die_service.base_url)
    params = {"die": "fair", "times": 5}
    answer = httpx.get(f"{roller.base_url}/roll-async", params=params, timeout=10)
    assert answer.status_code == 200
    return stage.collect([roller, die_service], [roller, die_service], answer.json())


def drive_5(stage: Stage) -> Run:
    die_service = stage.service("die-service")
    answer = httpx.get(f"{die_service.base_url}/dice/loaded", timeout=10)
    assert answer.status_code == 200
    return stage.collect([die_service], [die_service], answer.json())


def drive_6(stage: Stage) -> Run:
    # Both runs share the database: the patched one finds what the unpatched one set.
    die_service = stage.service("die-service")
    before = httpx.get(f"{die_service.base_url}/dice/fair", timeout=10).json()["failure_rate"]
    after = 0.25 if before == 0.5 else 0.5
    changed = httpx.patch(
        f"{die_service.base_url}/dice/fair/faults", json={"failure_rate": after}, timeout=10
    )
    assert changed.status_code == 200
    line = die_service.wait_for_log(level="WARNING", die="fair", failure_rate=after)
    return stage.collect([die_service], [die_service], {"before": before, "line": line})


def drive_7(stage: Stage) -> Run:
    die_service = stage.service("die-service")
    roller = stage.service(
        "dice-roller", die_service_url=die_service.base_url, fairness_rolls="10000"
    )
    answer = httpx.get(f"{roller.base_url}/roll", params={"die": "fair"}, timeout=30)
    assert answer.status_code == 200
    return stage.collect([roller, die_service], [roller, die_service], answer.json())


def check_1(run: Run) -> None:
    span = run.span(**{"die.value": run.answer["value"]})
    # Where the chapter says it is: FastAPI's span for the handler, under the server span.
    assert span.name == "fastapi.endpoint"
    assert run.parent(span).name == "GET /roll"


def check_2(run: Run) -> None:
    wait_ms = run.answer["attributes"]["wait_ms"]
    assert isinstance(wait_ms, int) and 0 <= wait_ms < 10_000


def check_3(run: Run) -> None:
    samples = [
        sample
        for family in text_string_to_metric_families(run.exposition)
        for sample in family.samples
        if sample.name == "die_lookups_total"
    ]
    assert [(s.labels, s.value) for s in samples] == [({"die": "fair"}, 1.0)]


def check_4(run: Run) -> None:
    span = run.span(**{"dice.times": 5})
    assert span.attributes["dice.failed"] == run.answer["failed"] == 0
    assert span.name == "fastapi.endpoint"
    # The batch's span is the parent of its roll spans, as the chapter's `>` query has it.
    assert [s.name for s in run.children(span)].count("roll") == 5


def check_5(run: Run) -> None:
    span = run.span(**{"die.name": "loaded"})
    (select,) = [s for s in run.children(span) if s.attributes.get("db.system.name")]
    assert select.attributes["db.system.name"] == "postgresql"
    # The statement carries `$1`, never the name: why the chapter puts the name on its parent.
    statement = select.attributes["db.query.text"]
    assert "$1" in statement and "loaded" not in statement


def check_6(run: Run) -> None:
    assert run.answer["line"]["previous"] == {"failure_rate": run.answer["before"]}


def check_7(run: Run) -> None:
    (check,) = [s for s in run.spans if s.name == "fairness check"]
    # The check's own span, under the endpoint's: the trace now names what took the time.
    endpoint = run.parent(check)
    assert endpoint.name == "fastapi.endpoint" and run.parent(endpoint).name == "GET /roll"
    assert run.answer["fair"] is True


DRIVERS = {1: drive_1, 2: drive_2, 3: drive_3, 4: drive_4, 5: drive_5, 6: drive_6, 7: drive_7}
CHECKS = {1: check_1, 2: check_2, 3: check_3, 4: check_4, 5: check_5, 6: check_6, 7: check_7}


def run_stage(number: int, env: dict[str, str], start_service, request) -> Run:
    with OtlpReceiver() as receiver:
        return DRIVERS[number](Stage(number, start_service, env, receiver, request))


@pytest.mark.timeout(300)
@pytest.mark.parametrize("number", STAGES)
def test_the_solution_emits_what_the_hands_on_query_finds(
    number: int, start_service, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    root = tmp_path / "solution"
    patched_copy(number, root)
    src = root / f"packages/stage{number}/src"
    pythonpath = os.pathsep.join(filter(None, [str(src), os.environ.get("PYTHONPATH")]))
    runs = {}
    for name, env in (("unpatched", {}), ("patched", {"PYTHONPATH": pythonpath})):
        # The changed modules come from the repository, or from the patched copy.
        for path in patched_files(number):
            module = path.split("/src/", 1)[1].removesuffix(".py").replace("/", ".")
            where = (root if env else REPO) / path
            assert imported_from(module, env) == where, f"{module} is not {where}"
        runs[name] = run_stage(number, env, start_service, request)
    CHECKS[number](runs["patched"])

    unpatched, patched = runs["unpatched"].names(), runs["patched"].names()
    queries = [q for q in hands_on_queries() if q[0].startswith(f"stage-{number}.md:")]
    assert queries, f"tutorials/stage-{number}.md's hands-on section has no query"
    used = {(kind, name) for result in parse(queries) for kind, name in result["names"]}
    missing = {(kind, name) for kind, name in used if name not in patched[kind]}
    assert not missing, f"the hands-on query names what the solution does not emit: {missing}"
    languages = {language for _, language, _ in queries}
    kinds = set().union(*(KINDS[language] for language in languages))
    added = {(kind, name) for kind in kinds for name in patched[kind] - unpatched[kind]}
    # A prometheus_client counter X is two series, X_total and its start time X_created.
    added -= {("metric", name.replace("_total", "_created")) for _, name in added}
    expected, _ = EXERCISES[number]
    assert added == expected, "the solution emits other names than the exercise's"
    # The query names the change, and the change is all it names that the unpatched run lacks.
    assert {(kind, name) for kind, name in used if name not in unpatched[kind]} == expected


@pytest.mark.parametrize("number", STAGES)
def test_the_chapter_shows_its_solution(number: int) -> None:
    (section,) = HANDS_ON.findall(chapter(number))
    patch = patch_of(number).read_text()
    # The step says which file and function to change, and how to restart the service.
    for path in patched_files(number):
        assert f"`{path}`" in section, path
    assert f"`{EXERCISES[number][1]}`" in section
    assert f"uv run nox -s stage-{number}" in section
    assert f"uv run stage{number}-" in section
    # Its queries select the stage.
    queries = [q for q in hands_on_queries() if q[0].startswith(f"stage-{number}.md:")]
    for _, language, query in queries:
        stage = "resource.service.namespace" if language == "traceql" else "compose_project"
        assert f'{stage}="stage-{number}"' in query, query
    # The solution, folded: the patch itself, and how to apply and undo it.
    solution = section.split("<details><summary>Solution</summary>", 1)[1]
    assert solution.split("```diff\n", 1)[1].split("```", 1)[0] == patch
    assert f"git apply tutorials/solutions/stage-{number}.patch" in solution
    assert f"git apply -R tutorials/solutions/stage-{number}.patch" in solution
    assert "</details>" in solution
