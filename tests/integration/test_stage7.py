"""Stage 7: GET /roll runs a CPU-bound fairness check of the die before the roll, and the switch
that keeps its verdicts (PUT /fairness-check) makes rolls quick again, by the API and by the page.

With the real Pyroscope agent pushing to the stand-in of Pyroscope's ingest API
(tests/support/fake_pyroscope.py) and spans going to an OTLP receiver, the planted function,
simulate_fairness, is in the dice-roller's CPU samples under the span id of the request's
endpoint span while the check runs on every roll, and not in the samples of the rolls after the
switch: the walk the chapter takes, from the span to its flame graph, and the change the fix
makes to it. The WARNING line and the usage event of a switch: the signal matrix.
"""

import secrets
import statistics

import httpx
import pytest
from lab_telemetry.testing import OtlpReceiver, ReceivedSpan, poll_until
from playwright.sync_api import expect

from tests.support.fake_pyroscope import FakePyroscope, ProfileSample

PLANTED = "simulate_fairness"
SWITCH = "/fairness-check"
# A hundredth of the chapter's million: a check of a few milliseconds, where its cost is not
# what a test looks at.
QUICK = {"DICE_ROLLER_FAIRNESS_ROLLS": "10000"}


@pytest.fixture
def stage7(start_stage7):
    return start_stage7(roller_env=QUICK)


def roll(roller, die: str = "fair", **headers: str) -> httpx.Response:
    response = httpx.get(
        f"{roller.base_url}/roll", params={"die": die}, headers=headers, timeout=30
    )
    assert response.status_code == 200, response.text
    return response


def switch(roller, cache: bool) -> dict:
    response = httpx.put(f"{roller.base_url}{SWITCH}", json={"cache": cache}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_roll_says_whether_its_die_is_fair(stage7) -> None:
    _, roller = stage7
    assert roll(roller, "fair").json()["fair"] is True
    loaded = roll(roller, "loaded").json()
    assert loaded["fair"] is False and loaded["die"] == "loaded" and 1 <= loaded["value"] <= 6
    # The check comes before the roll, which keeps its faults: an unknown die is still a 404.
    assert httpx.get(f"{roller.base_url}/roll", params={"die": "nope"}).status_code == 404


def test_the_switch_is_read_and_set_and_bad_switches_are_refused(stage7) -> None:
    _, roller = stage7
    url = f"{roller.base_url}{SWITCH}"
    assert httpx.get(url).json() == {"cache": False, "rolls": 10_000}
    assert switch(roller, True) == {"cache": True, "rolls": 10_000}
    for bad, says in (
        ({}, "Field required"),
        ({"cache": "yes"}, "valid boolean"),
        ({"cache": 1}, "valid boolean"),
        ({"cache": None}, "valid boolean"),
        ({"cache": False, "rolls": 5}, "Extra inputs are not permitted"),
    ):
        response = httpx.put(url, json=bad)
        assert response.status_code == 422, bad
        assert says in str(response.json()["detail"]), response.json()
    not_json = httpx.put(url, content=b"{cache: true", headers={"content-type": "application/json"})
    assert not_json.status_code in (400, 422), not_json.text
    assert "detail" in not_json.json()
    # Nothing of the refused switches was kept; a method the path does not serve names both.
    assert httpx.get(url).json()["cache"] is True
    refused = httpx.post(url, json={"cache": False})
    assert refused.status_code == 405 and refused.headers["allow"] == "GET, PUT"


def test_the_cache_makes_rolls_quick_from_the_second_of_each_die(start_stage7) -> None:
    # The chapter's check: a million rolls simulated, a fifth of a second or so of one core.
    _, roller = start_stage7()
    with httpx.Client(base_url=roller.base_url, timeout=30) as client:

        def median_seconds(die: str, n: int = 5) -> float:
            times = []
            for _ in range(n):
                response = client.get("/roll", params={"die": die})
                assert response.status_code == 200
                times.append(response.elapsed.total_seconds())
            return statistics.median(times)

        checked = median_seconds("fair")
        assert checked > 0.05, checked
        assert client.put(SWITCH, json={"cache": True}).status_code == 200
        client.get("/roll", params={"die": "fair"})  # the one check of the fair die
        cached = median_seconds("fair")
        assert cached < checked / 3, (checked, cached)
        # Off again: every roll checks the die anew.
        assert client.put(SWITCH, json={"cache": False}).status_code == 200
        assert median_seconds("fair", 3) > cached * 3


def traced_roll(client: httpx.Client, die: str = "fair") -> str:
    """A roll in a trace of its own (a sampled traceparent); its trace id."""
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    response = client.get("/roll", params={"die": die}, headers={"traceparent": traceparent})
    assert response.status_code == 200, response.text
    return trace_id


def endpoint_span(receiver: OtlpReceiver, trace_id: str) -> ReceivedSpan:
    def find() -> ReceivedSpan | None:
        found = receiver.find(service="dice-roller", name="fastapi.endpoint", trace_id=trace_id)
        return found[0] if found else None

    return poll_until(find, timeout=15, what=f"the endpoint span of trace {trace_id}")


def planted(samples: list[ProfileSample], span_id: str) -> int:
    """CPU time (ns) of the planted function in the samples tied to this span."""
    return sum(
        sample.values[0]
        for sample in samples
        if PLANTED in sample.functions and span_id in sample.label_values("span_id")
    )


def test_the_flame_graph_of_a_slow_rolls_span_names_the_check_and_the_fix_removes_it(
    start_stage7, fake_pyroscope: FakePyroscope, otlp_receiver: OtlpReceiver
) -> None:
    _, roller = start_stage7(
        OTEL_EXPORTER_OTLP_ENDPOINT=otlp_receiver.endpoint,
        OTEL_BSP_SCHEDULE_DELAY="100",
        OTEL_RESOURCE_ATTRIBUTES="service.namespace=stage-7",
        PYROSCOPE_SERVER_ADDRESS=fake_pyroscope.address,
        PYROSCOPE_UPLOAD_INTERVAL="1",
    )
    labels = {"service_name": "dice-roller", "service_namespace": "stage-7"}
    with httpx.Client(base_url=roller.base_url, timeout=30) as client:
        before = [traced_roll(client) for _ in range(4)]
        assert client.put(SWITCH, json={"cache": True}).status_code == 200
        warm_up = traced_roll(client)  # the fair die's one check
        after = [traced_roll(client) for _ in range(4)]
        # The d20's one check: CPU that is sampled for sure, pushed after all of the above.
        last = traced_roll(client, "d20")

    # The endpoint span carries the profile id Grafana's "Profiles for this span" looks for.
    spans = {trace_id: endpoint_span(otlp_receiver, trace_id) for trace_id in before + after}
    for span in spans.values():
        assert span.attributes["pyroscope.profile.id"] == span.span_id
        # No child span accounts for the check: the die-service call is its only child.
        children = [
            s for s in otlp_receiver.trace(span.trace_id) if s.parent_span_id == span.span_id
        ]
        assert [s.name for s in children] == ["GET"], children

    # Samples are pushed every second, in order: once the d20's check is in, all before it are.
    last_span = endpoint_span(otlp_receiver, last).span_id
    poll_until(
        lambda: planted(fake_pyroscope.samples(**labels), last_span),
        timeout=20,
        what="the samples of the d20's check",
    )
    samples = fake_pyroscope.samples(**labels)
    checked = [planted(samples, spans[trace_id].span_id) for trace_id in before]
    # At 100 samples a second, a check of a fifth of a second is sampled many times, and every
    # one of those samples names the span of the request it ran in.
    assert sum(checked) > 0 and sum(1 for ns in checked if ns) >= 3, checked
    # Each sample of the check names the one span of the request it ran in, or, seldom, none: the
    # agent reads a thread's tags apart from its stack, and a sample at the very edge of a check
    # may miss them (a tenth allowed here); never another request's.
    ours = {span.span_id for span in spans.values()}
    ours |= {last_span, endpoint_span(otlp_receiver, warm_up).span_id}
    in_check = [sample for sample in samples if PLANTED in sample.functions]
    tied = [sample for sample in in_check if sample.label_values("span_id")]
    assert all(len(s.label_values("span_id")) == 1 for s in tied)
    assert {s.label_values("span_id")[0] for s in tied} <= ours
    total = sum(s.values[0] for s in in_check)
    assert sum(s.values[0] for s in tied) >= 0.9 * total, (len(tied), len(in_check))
    # After the switch the rolls' spans have samples, but none in the planted function.
    assert [planted(samples, spans[trace_id].span_id) for trace_id in after] == [0, 0, 0, 0]


def test_the_page_switches_the_cache_on_and_off(stage7, start_frontend, browser_page) -> None:
    die_service, roller = stage7
    page = browser_page
    page.goto(start_frontend(7, roller, die_service))
    form = page.get_by_test_id("stForm").filter(has_text="Set fairness check")
    toggle = form.get_by_role("switch")
    expect(toggle).not_to_be_checked()  # the form starts from the dice-roller's switch
    form.get_by_text("Keep each die's verdict").click()
    form.get_by_role("button", name="Set fairness check").click()
    page.get_by_text("The dice-roller now checks each die once and keeps the verdict.").wait_for()
    assert httpx.get(f"{roller.base_url}{SWITCH}").json()["cache"] is True

    form.get_by_text("Keep each die's verdict").click()
    form.get_by_role("button", name="Set fairness check").click()
    page.get_by_text("The dice-roller now checks the die before every roll.").wait_for()
    assert httpx.get(f"{roller.base_url}{SWITCH}").json()["cache"] is False
