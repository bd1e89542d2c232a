"""Every LogQL, TraceQL and PromQL query in the docs and dashboards parses with the grammar
Grafana's query editors use: @grafana/lezer-logql, @grafana/lezer-traceql and Prometheus's
@prometheus-io/lezer-promql, pinned in tests/grammars/package.json and its lock
(`npm ci --prefix tests/grammars`). The dashboards' PromQL also runs against a real Prometheus
(tests/integration/test_dashboard_queries); the names every query uses are checked against what
the services emit in tests/integration/test_query_names.py.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.config.repo_files import DASHBOARDS, REPO, dashboard_targets
from tests.support.prerequisites import require

GRAMMARS = REPO / "tests" / "grammars"
DOCS = [
    *sorted((REPO / "tutorials").glob("*.md")),
    REPO / "README.md",
    REPO / "docs/reference.md",
    REPO / "compose/stack/README.md",
]
# Grafana replaces its macros before a query leaves it; the grammars see what Loki and Tempo see.
MACROS = {"$__auto": "1m", "$__interval": "1m", "$__range": "5m", "$__rate_interval": "1m"}


def expand(query: str) -> str:
    for macro, value in MACROS.items():
        query = query.replace(macro, value)
    return query


def doc_queries() -> list[tuple[str, str, str]]:
    """(where, language, query) from ```logql / ```traceql / ```promql blocks, a query a line (an
    indented line continues the one above), and mentions such as LogQL `...`."""
    found = []
    for path in DOCS:
        text = path.read_text()
        for match in re.finditer(r"```(logql|traceql|promql)\n(.*?)```", text, re.DOTALL):
            line = text[: match.start()].count("\n") + 2
            for offset, query in enumerate(match.group(2).splitlines()):
                if query[:1].isspace() and query.strip():
                    where, language, above = found[-1]
                    found[-1] = (where, language, f"{above} {query.strip()}")
                elif query.strip():
                    found.append((f"{path.name}:{line + offset}", match.group(1), query))
        for match in re.finditer(r"\b(LogQL|TraceQL|PromQL) `([^`]+)`", text):
            line = text[: match.start()].count("\n") + 1
            found.append((f"{path.name}:{line}", match.group(1).lower(), match.group(2)))
    return found


# A chapter's `## Hands-on: ...` section, up to the next section.
HANDS_ON = re.compile(r"^## Hands-on: .*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)


def hands_on_queries() -> list[tuple[str, str, str]]:
    """The doc_queries() of the chapters' hands-on sections. They name what only the exercise's
    solution emits, so tests/integration/test_exercises.py checks their names against the patched
    services, and test_query_names leaves them out; they parse like every other (below)."""
    lines: set[str] = set()
    for path in DOCS:
        text = path.read_text()
        for match in HANDS_ON.finditer(text):
            first = text[: match.start()].count("\n") + 1
            last = first + match.group(0).count("\n")
            lines |= {f"{path.name}:{line}" for line in range(first, last + 1)}
    return [query for query in doc_queries() if query[0] in lines]


def dashboard_queries() -> list[tuple[str, str, str]]:
    found = []
    for name, panel, target in dashboard_targets():
        kind = target["datasource"]["type"]
        query = target.get("query") if kind == "tempo" else target.get("expr")
        language = {"loki": "logql", "tempo": "traceql", "prometheus": "promql"}.get(kind)
        if language and query:
            found.append((f"{name}: {panel['title']}", language, query))
    return found


def pyroscope_queries() -> list[tuple[str, str, str]]:
    """(where, profile type id, label selector) of every Pyroscope query: a dashboard target's,
    and each line `PROFILE_TYPE{selector}` of a ```pyroscope block in the docs, as Pyroscope's
    own page takes a query."""
    found = []
    for name, panel, target in dashboard_targets():
        if target["datasource"]["type"] == "grafana-pyroscope-datasource":
            found.append(
                (f"{name}: {panel['title']}", target["profileTypeId"], target["labelSelector"])
            )
    for path in DOCS:
        text = path.read_text()
        for match in re.finditer(r"```pyroscope\n(.*?)```", text, re.DOTALL):
            line = text[: match.start()].count("\n") + 2
            for offset, query in enumerate(match.group(1).splitlines()):
                if query.strip():
                    profile_type, brace, selector = query.strip().partition("{")
                    found.append((f"{path.name}:{line + offset}", profile_type, brace + selector))
    return found


def parse(queries: list[tuple[str, str, str]]) -> list[dict]:
    """Per query: {"errors": [offsets], "names": [[kind, name], ...]} (see parse.mjs)."""
    node = shutil.which("node")
    require(node is not None, "node not found (Debian: apt-get install nodejs)")
    require(
        (GRAMMARS / "node_modules" / "@grafana" / "lezer-logql").exists(),
        "Grafana's grammars are not installed: npm ci --prefix tests/grammars",
    )
    payload = [{"language": language, "query": expand(query)} for _, language, query in queries]
    result = subprocess.run(
        [node, str(GRAMMARS / "parse.mjs")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout)


def test_there_are_queries_of_both_languages_in_docs_and_dashboards() -> None:
    assert DASHBOARDS
    for source in (doc_queries(), dashboard_queries()):
        assert {language for _, language, _ in source} == {"logql", "traceql", "promql"}


@pytest.mark.parametrize("source", ["docs", "dashboards"])
def test_every_query_parses_with_grafanas_grammar(source: str) -> None:
    queries = doc_queries() if source == "docs" else dashboard_queries()
    failures = [
        f"{where} ({language}) at {offsets[0]}: {query}"
        for (where, language, query), result in zip(queries, parse(queries), strict=True)
        if (offsets := result["errors"])
    ]
    assert not failures, "\n".join(failures)


def test_every_pyroscope_query_is_a_profile_type_and_a_selector_of_its_stage() -> None:
    # A label selector is PromQL's vector selector without a metric name: its grammar reads it.
    queries = pyroscope_queries()
    assert {where.split(":")[0] for where, _, _ in queries} >= {"stage-7.json", "stage-7.md"}
    selectors = [(where, "promql", selector) for where, _, selector in queries]
    for (where, profile_type, selector), result in zip(queries, parse(selectors), strict=True):
        assert re.fullmatch(r"\w+(:\w+){4}", profile_type), f"{where}: {profile_type}"
        assert not result["errors"] and selector.startswith("{"), f"{where}: {selector}"
        (matchers,) = result["selectors"]
        stage = re.match(r"stage-(\d)\.", where)
        if stage:
            assert ["service_namespace", f"stage-{stage.group(1)}"] in matchers, where


def test_the_grammars_do_reject_a_broken_query() -> None:
    # The check above can fail: these are what a typo looks like to the grammars.
    broken = [
        ("-", "logql", '{compose_project="stage-1"'),
        ("-", "logql", '{job="x"} |= '),
        ("-", "traceql", "{span.http.route = }"),
        ("-", "promql", "sum(rate(http_requests_total[1m])"),
    ]
    assert all(result["errors"] for result in parse(broken))


def test_the_lock_pins_what_package_json_names() -> None:
    package = json.loads((GRAMMARS / "package.json").read_text())
    lock = json.loads((GRAMMARS / "package-lock.json").read_text())
    for name, version in package["dependencies"].items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version, name


def test_no_grammar_is_vendored_into_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", str(GRAMMARS)], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    assert not any("node_modules" in Path(p).parts for p in tracked)


def alloy_stream_labels() -> set[str]:
    """The Loki stream labels Alloy's config sets: relabel targets and stage.labels values."""
    text = (REPO / "compose/stack/alloy/config.alloy").read_text()
    labels = set(re.findall(r'target_label\s*=\s*"(\w+)"', text))
    (stage,) = re.findall(r"stage\.labels \{\s*values = \{(.*?)\}", text, re.DOTALL)
    return labels | set(re.findall(r"(\w+)\s*=", stage))


def alloy_structured_metadata() -> set[str]:
    """The fields Alloy's config keeps as structured metadata (stage.structured_metadata)."""
    text = (REPO / "compose/stack/alloy/config.alloy").read_text()
    (stage,) = re.findall(r"stage\.structured_metadata \{\s*values = \{(.*?)\}", text, re.DOTALL)
    return set(re.findall(r"(\w+)\s*=", stage))


# What the services put on their resource (compose's OTEL_RESOURCE_ATTRIBUTES and the SDK).
RESOURCE_ATTRIBUTES = {"service.name", "service.namespace", "deployment.environment.name"}


def names_of_kind(kind: str) -> list[tuple[str, str, set[str]]]:
    """(where, query, the names of this kind it uses), as the grammars read them (parse.mjs)."""
    queries = doc_queries() + dashboard_queries()
    return [
        (where, query, {name for k, name in result["names"] if k == kind})
        for (where, _, query), result in zip(queries, parse(queries), strict=True)
    ]


def test_logql_selects_only_labels_alloy_sets() -> None:
    known = alloy_stream_labels()
    assert {"service_name", "compose_project", "level", "usage"} <= known
    used = names_of_kind("stream")
    assert any(names for _, _, names in used)
    for where, query, names in used:
        assert names <= known, f"{where}: {query} selects {names - known}, not a Loki label"


def test_traceql_names_only_resource_attributes_the_services_have() -> None:
    used = names_of_kind("resource")
    assert any(names for _, _, names in used)
    for where, query, names in used:
        assert names <= RESOURCE_ATTRIBUTES, f"{where}: {query} uses {names - RESOURCE_ATTRIBUTES}"


# The label or attribute that says which stage a series, stream or span belongs to: for the
# series Tempo makes from spans, the span's service.namespace (tempo.yaml's dimensions); for
# LogQL also the alert-receiver's field with the stage of the alert it logged (`labels` of the
# alert, flattened by `| json`), since the receiver itself belongs to the stack.
STAGE_SELECTOR = {
    "promql": {"compose_project", "service_namespace", "client_service_namespace"},
    "logql": {"compose_project", "labels_compose_project"},
    "traceql": {"resource.service.namespace"},
}


def test_every_selector_in_a_chapter_selects_the_chapters_stage() -> None:
    # Every stage has a dice-roller: a selector without its stage's filter finds whichever stage
    # runs, and a query meant to prove stage 3 works passes on stage 2's data. Each selector
    # counts: both sides of a TraceQL `>>`, both operands of a PromQL division.
    queries = [q for q in doc_queries() if re.match(r"stage-\d\.md:", q[0])]
    assert queries
    wrong = []
    for (where, language, query), result in zip(queries, parse(queries), strict=True):
        stage = where.split(".md")[0]
        wanted = [[name, stage] for name in STAGE_SELECTOR[language]]
        assert result["selectors"], f"{where}: no selector found in {query}"
        if any(not any(pair in selector for pair in wanted) for selector in result["selectors"]):
            wrong.append(f"{where}: {query}")
    assert not wrong, "selectors without their stage:\n" + "\n".join(wrong)
