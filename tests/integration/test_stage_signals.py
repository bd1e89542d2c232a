"""Every stage's services emit what the signal matrix says (tests/support/signals.py).

Each stage's services run once, as real processes (a class per stage below, whose run is
class-scoped: its own OTLP receiver and, from stage 5 on, its own PostgreSQL database), get the
matrix's calls and the page's clicks in Chromium; then one test per row of the matrix: each
call's answer, each metric on /metrics, each span at the receiver with its parent, each JSON log
line in its span.
"""

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import lab_stages
import pytest
from lab_dice.dice import DICE_FILE
from lab_telemetry.testing import OtlpReceiver, ReceivedSpan, poll_until
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect
from prometheus_client.parser import text_string_to_metric_families

from tests.support import browser
from tests.support.ports import free_port
from tests.support.processes import Service, Services
from tests.support.signals import (
    ROOT,
    SERVER,
    SIGNALS,
    Call,
    Log,
    Metric,
    Parent,
    Span,
    matches,
)

# Each service's settings, and its start order: a service starts after those it calls.
PREFIXES = {"die-service": "DIE_SERVICE_", "dice-roller": "DICE_ROLLER_", "frontend": "FRONTEND_"}


@dataclass
class StageRun:
    """A stage's services after the matrix's traffic: what each answered and where to look."""

    services: dict[str, Service]
    metrics_urls: dict[str, str]
    receiver: OtlpReceiver
    # By service, method and path: each call's answer.
    answers: dict[tuple[str, str, str], httpx.Response] = field(default_factory=dict)
    # The trace id the page showed after each roll.
    shown_trace_ids: list[str] = field(default_factory=list)

    def span(self, trace_id: str, span_id: str) -> ReceivedSpan | None:
        return next(iter(self.receiver.find(trace_id=trace_id, span_id=span_id)), None)


def roll(page, run: StageRun) -> None:
    page.get_by_test_id("stRadio").get_by_text("fair", exact=True).click()
    page.get_by_role("button", name="Roll", exact=True).click()
    page.get_by_text("The fair die rolled").wait_for()
    run.shown_trace_ids.append(page.locator("a[href*='/explore?']").inner_text().strip())


def roll_many(page, run: StageRun) -> None:
    page.get_by_role("button", name="Roll 20 times").click()
    page.get_by_text("20 fair dice rolled, in total").wait_for()


def add_die(page, run: StageRun) -> None:
    page.get_by_label("Name").fill("d4")
    page.get_by_label("Faces").fill("1, 2, 3, 4")
    page.get_by_role("button", name="Add die").click()
    page.get_by_text("Added the die 'd4'.").wait_for()
    page.get_by_test_id("stRadio").get_by_text("d4", exact=True).wait_for()  # the page reran


def set_faults(page, run: StageRun) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    fair = page.get_by_role("option", name="fair", exact=True)
    # A click while the page still reruns can land on a list that is being replaced: open it
    # again until it shows its options.
    for _ in range(5):
        sidebar.get_by_test_id("stSelectbox").click()
        try:
            fair.wait_for(timeout=3000)
            break
        except PlaywrightTimeout:
            continue
    fair.click()
    form = page.get_by_test_id("stForm").filter(has_text="Set faults")
    # Only the slow rate, and fair has no delay: the rolls are unchanged, and only this is sent.
    slider = form.get_by_test_id("stSlider").filter(has_text="Slow rate").get_by_role("slider")
    expect(slider).to_have_value("0")  # the form shows fair's faults
    slider.focus()
    page.keyboard.press("ArrowRight")
    form.get_by_role("button", name="Set faults").click()
    page.get_by_text("The fair die now fails 0% of rolls and is slow (0-0 s) in 5%.").wait_for()


def set_fairness_check(page, run: StageRun) -> None:
    form = page.get_by_test_id("stForm").filter(has_text="Set fairness check")
    # The matrix's calls switched the cache on before the page opened: the toggle shows it.
    expect(form.get_by_role("switch")).to_be_checked()
    form.get_by_text("Keep each die's verdict").click()
    form.get_by_role("button", name="Set fairness check").click()
    page.get_by_text("The dice-roller now checks the die before every roll.").wait_for()


# What the matrix's page `actions` do, in a browser on the stage's page.
ACTIONS: dict[str, Callable] = {
    "roll": roll,
    "roll many": roll_many,
    "add die": add_die,
    "set faults": set_faults,
    "set fairness check": set_fairness_check,
}


def start(services: Services, stage: str, receiver: OtlpReceiver, postgres) -> StageRun:
    """Start the stage's services as its compose file wires them, callees first."""
    number = lab_stages.app(stage).stage
    matrix = SIGNALS[stage]
    tracing = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "100"}
    started: dict[str, Service] = {}
    metrics_urls: dict[str, str] = {}
    for name in [name for name in PREFIXES if name in matrix]:
        signals = matrix[name]
        prefix = PREFIXES[name]
        port = free_port()
        env = {**tracing, f"{prefix}PORT": str(port)}
        env |= {prefix + key: value for key, value in signals.settings.items()}
        if name == "die-service":
            dice = [*json.loads(DICE_FILE.read_text()), *signals.extra_dice]
            (services.directory / "dice.json").write_text(json.dumps(dice))
            env[f"{prefix}DICE_FILE"] = str(services.directory / "dice.json")
            if signals.database:
                env[f"{prefix}DATABASE_URL"] = postgres().create_database(signals.database)
        if "die-service" in started:
            env[f"{prefix}DIE_SERVICE_URL"] = started["die-service"].base_url
        if "dice-roller" in started:
            env[f"{prefix}DICE_ROLLER_URL"] = started["dice-roller"].base_url
        if name == "frontend":
            metrics_port = free_port()
            env[f"{prefix}METRICS_PORT"] = str(metrics_port)
            service = services.start(
                f"stage{number}-{name}", env, port, ready_path="/_stcore/health"
            )
            metrics_urls[name] = f"http://127.0.0.1:{metrics_port}/metrics"
        else:
            service = services.start(f"stage{number}-{name}", env, port)
            metrics_urls[name] = f"{service.base_url}/metrics"
        started[name] = service
    return StageRun(started, metrics_urls, receiver)


def rows(stage: str, kind: str) -> list:
    """(service, row) for each row of one column of a stage's matrix, with readable ids."""
    return [
        pytest.param(service, row, id=f"{service}: {describe(row)}")
        for service, signals in SIGNALS[stage].items()
        for row in getattr(signals, kind)
    ]


def describe(row: object) -> str:
    if isinstance(row, Call):
        return f"{row.method} {row.path} {row.status}"
    if isinstance(row, Metric):
        return row.name + json.dumps(row.labels, default=str, sort_keys=True)
    if isinstance(row, Span):
        parent = f" <- {row.parent.service} {row.parent.name}" if row.parent else ""
        return row.name + (" (error)" if row.error else "") + parent
    fields = row.fields  # type: ignore[attr-defined]
    return ",".join(f"{k}={v}" for k, v in fields.items() if k not in ("usage", "attributes"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Each test of a stage's class, once per row of that stage's matrix."""
    stage = metafunc.cls.stage
    for kind in ("calls", "metrics", "spans", "logs"):
        if kind.removesuffix("s") in metafunc.fixturenames:
            metafunc.parametrize(("service", kind.removesuffix("s")), rows(stage, kind))
    if metafunc.fixturenames[-1:] == ["api_service"]:
        apis = [name for name in SIGNALS[stage] if name != "frontend"]
        metafunc.parametrize("api_service", apis)


@pytest.fixture(scope="class")
def run(request, tmp_path_factory) -> Iterator[StageRun]:
    """The services of the class's stage, running, after the matrix's calls and the page's
    actions."""
    stage = request.cls.stage
    services = Services(tmp_path_factory.mktemp(stage))
    with OtlpReceiver() as receiver:
        try:
            run = start(
                services,
                stage,
                receiver,
                lambda: request.getfixturevalue("postgres_cluster"),
            )
            for service, signals in SIGNALS[stage].items():
                for call in signals.calls:
                    url = run.services[service].base_url + call.path
                    run.answers[service, call.method, call.path] = httpx.request(
                        call.method, url, json=call.json, timeout=10
                    )
            actions = [a for signals in SIGNALS[stage].values() for a in signals.actions]
            if actions:
                with browser.browser_page() as page:
                    page.goto(run.services["frontend"].base_url)
                    for action in actions:
                        ACTIONS[action](page, run)
            yield run
        finally:
            services.stop_all()


class StageSignals:
    """The tests of one stage's signals; a subclass per stage names it (`stage`)."""

    stage: str

    def test_each_call_gets_its_answer(self, run: StageRun, service: str, call: Call) -> None:
        response = run.answers[service, call.method, call.path]
        assert response.status_code == call.status, response.text
        if call.detail is not None:
            assert call.detail in response.json()["detail"]

    def test_each_metric_is_on_metrics(self, run: StageRun, service: str, metric: Metric) -> None:
        text = httpx.get(run.metrics_urls[service], timeout=10).text
        samples = [
            sample
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == metric.name
        ]
        assert samples, f"no {metric.name} on {service}'s /metrics"
        found = [s for s in samples if matches(s.labels, metric.labels)]
        assert found, f"no {metric.name} with {metric.labels}: {[s.labels for s in samples]}"
        if metric.value is not None:
            assert [s.value for s in found] == [metric.value]

    def test_each_span_reaches_the_receiver(self, run: StageRun, service: str, span: Span) -> None:
        def is_described(candidate: ReceivedSpan) -> bool:
            if candidate.kind != span.kind or candidate.is_error != span.error:
                return False
            if span.attributes and not matches(candidate.attributes, span.attributes):
                return False
            if any(key in candidate.attributes for key in span.absent):
                return False
            if (candidate.end_ns - candidate.start_ns) / 1e9 < span.min_seconds:
                return False
            if span.parent is None:
                return True
            if span.parent == ROOT:
                return candidate.parent_span_id == ""
            parent = run.span(candidate.trace_id, candidate.parent_span_id)
            return parent is not None and Parent(parent.service, parent.name) == span.parent

        # Each service exports in its own batches: wait for the span and its parent.
        try:
            poll_until(
                lambda: [
                    s for s in run.receiver.find(service=service, name=span.name) if is_described(s)
                ],
                timeout=15,
            )
        except TimeoutError:
            sent = sorted({s.name for s in run.receiver.find(service=service)})
            pytest.fail(f"no span of {service} is {describe(span)}; it sent {sent}")

    def test_each_log_line_is_written_in_its_span(
        self, run: StageRun, service: str, log: Log
    ) -> None:
        def in_its_span(line: dict) -> bool:
            if log.in_span is None:
                return True
            span = run.span(line.get("trace_id", ""), line.get("span_id", ""))
            return span is not None and (span.service, span.name) == (service, log.in_span)

        lines_of = run.services[service].log_lines
        poll_until(
            lambda: [
                line for line in lines_of() if matches(line, log.fields) and in_its_span(line)
            ],
            timeout=15,
            what=f"a line of {service} with {log.fields} in its span {log.in_span}",
        )

    def test_every_request_counted_is_one_server_span(
        self, run: StageRun, api_service: str
    ) -> None:
        text = httpx.get(run.metrics_urls[api_service], timeout=10).text
        counted = sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "http_requests_total"
        )
        assert counted
        poll_until(
            lambda: len(run.receiver.find(service=api_service, kind=SERVER)) == counted,
            timeout=15,
            what=f"{counted:.0f} server spans of {api_service}",
        )


class PageSignals(StageSignals):
    """The tests of a stage with a page: the base's, and the trace the page links to."""

    def test_the_page_shows_the_trace_of_its_click(self, run: StageRun) -> None:
        assert run.shown_trace_ids
        for trace_id in run.shown_trace_ids:
            poll_until(
                lambda trace_id=trace_id: run.receiver.find(
                    service="frontend", name="roll die", trace_id=trace_id, parent_span_id=""
                ),
                timeout=15,
                what=f"the click's span in trace {trace_id}",
            )


class TestStage1(StageSignals):
    stage = "stage-1"


class TestStage2(PageSignals):
    stage = "stage-2"


class TestStage3(PageSignals):
    stage = "stage-3"


class TestStage4(PageSignals):
    stage = "stage-4"


class TestStage5(PageSignals):
    stage = "stage-5"


class TestStage6(PageSignals):
    stage = "stage-6"


class TestStage7(PageSignals):
    stage = "stage-7"
