"""Stage 6: a die's faults changed while the services run, by the API and by the page. The
WARNING line and the set_faults usage event a change writes: the signal matrix
(test_stage_signals.py)."""

import httpx
import pytest
from playwright.sync_api import expect
from prometheus_client.parser import text_string_to_metric_families

FAULTS = "/dice/{}/faults"


@pytest.fixture
def stage6(start_stage6):
    return start_stage6()


def statuses(roller, die: str, n: int = 20) -> set[int]:
    return {httpx.get(f"{roller.base_url}/roll", params={"die": die}).status_code for _ in range(n)}


def test_a_fault_switched_on_and_off_changes_the_next_rolls_without_a_restart(stage6) -> None:
    die_service, roller = stage6
    assert statuses(roller, "fair") == {200}

    on = httpx.patch(die_service.base_url + FAULTS.format("fair"), json={"failure_rate": 1.0})
    assert on.status_code == 200
    assert on.json()["failure_rate"] == 1.0 and on.json()["faces"] == [1, 2, 3, 4, 5, 6]
    assert statuses(roller, "fair") == {500}

    off = httpx.patch(die_service.base_url + FAULTS.format("fair"), json={"failure_rate": 0})
    assert off.status_code == 200
    assert statuses(roller, "fair") == {200}
    assert roller.process.poll() is None and die_service.process.poll() is None


def test_faults_left_out_keep_their_values_and_a_delay_slows_rolls(stage6) -> None:
    die_service, roller = stage6
    url = die_service.base_url + FAULTS.format("risky")
    slowed = httpx.patch(url, json={"slow_rate": 1.0, "delay_range_seconds": [0.3, 0.3]})
    assert slowed.status_code == 200
    risky = slowed.json()
    assert (risky["failure_rate"], risky["slow_rate"], risky["delay_range_seconds"]) == (
        0.1,
        1.0,
        [0.3, 0.3],
    )
    httpx.patch(url, json={"failure_rate": 0})
    response = httpx.get(f"{roller.base_url}/roll", params={"die": "risky"})
    assert response.status_code == 200 and response.elapsed.total_seconds() >= 0.3


def fault_gauge(die_service) -> dict[tuple[str, str], float]:
    """dice_fault_ratio on the die-service's /metrics: (die, fault) -> value."""
    text = httpx.get(f"{die_service.base_url}/metrics").text
    return {
        (sample.labels["die"], sample.labels["fault"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "dice_fault_ratio"
    }


def test_the_fault_gauge_shows_each_die_as_last_read_or_switched(stage6) -> None:
    die_service, roller = stage6
    httpx.get(f"{roller.base_url}/roll", params={"die": "risky"})  # reads the risky die
    assert fault_gauge(die_service) == {("risky", "failure"): 0.1, ("risky", "slow"): 0.2}
    url = die_service.base_url + FAULTS.format("fair")
    assert httpx.patch(url, json={"failure_rate": 1.0}).status_code == 200
    gauge = fault_gauge(die_service)
    assert (gauge["fair", "failure"], gauge["fair", "slow"]) == (1.0, 0.0)
    # A refused change leaves it as it was.
    assert httpx.patch(url, json={"failure_rate": 0.5, "slow_rate": 2}).status_code == 422
    assert fault_gauge(die_service)["fair", "failure"] == 1.0


def test_bad_faults_are_refused_with_what_was_wrong(stage6) -> None:
    die_service, _ = stage6
    missing = httpx.patch(die_service.base_url + FAULTS.format("nope"), json={"failure_rate": 0.5})
    assert (missing.status_code, missing.json()["detail"]) == (404, "no die named 'nope'")
    url = die_service.base_url + FAULTS.format("fair")
    for bad, says in (
        ({}, "name at least one of failure_rate, slow_rate, delay_range_seconds"),
        ({"failure_rate": 1.5}, "less than or equal to 1"),
        ({"delay_range_seconds": [2, 1]}, "min <= max"),
        ({"delay_range_seconds": [0, 31]}, "less than or equal to 30"),
    ):
        response = httpx.patch(url, json=bad)
        assert response.status_code == 422, bad
        assert says in str(response.json()["detail"]), response.json()
    # Nothing of the refused changes was stored.
    assert httpx.get(f"{die_service.base_url}/dice/fair").json()["failure_rate"] == 0


def test_the_page_switches_a_fault_on_and_off(stage6, start_frontend, browser_page) -> None:
    die_service, roller = stage6
    page = browser_page
    page.goto(start_frontend(6, roller, die_service))
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="risky", exact=True).click()
    form = page.get_by_test_id("stForm").filter(has_text="Set faults")
    slider = form.get_by_test_id("stSlider").filter(has_text="Failure rate").get_by_role("slider")
    # The form starts from the risky die's faults once the page has rerun for it.
    expect(slider).to_have_value("0.1")
    slider.focus()
    page.keyboard.press("End")  # to 100%; the risky die's slow rate and delay are kept
    form.get_by_role("button", name="Set faults").click()
    page.get_by_text(
        "The risky die now fails 100% of rolls and is slow (0.5-1.5 s) in 20%."
    ).wait_for()
    assert statuses(roller, "risky", 5) == {500}

    slider.focus()
    page.keyboard.press("Home")
    form.get_by_role("button", name="Set faults").click()
    page.get_by_text(
        "The risky die now fails 0% of rolls and is slow (0.5-1.5 s) in 20%."
    ).wait_for(timeout=30_000)
    assert statuses(roller, "risky", 5) == {200}
