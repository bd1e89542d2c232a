"""Every tutorial stage, the dice-roller and the http-console in real containers, each beside the
stack, started with the nox session a learner types: built from the Dockerfile, up under their
compose files' own hardening (read-only roots, no capabilities, users, memory limits), healthy,
found by Prometheus through the real Docker socket by their labels alone, driven by traffic-gen
and used through their published ports in Chromium; those given a Pyroscope address (stage 7's)
start the profiling agent.

    uv run nox -s smoke
"""

import json

import httpx
import lab_stages
import pytest
from lab_telemetry.testing import poll_until

from tests.config.repo_files import REPO, load_yaml
from tests.docker.lab import (
    PROMETHEUS,
    Lab,
    container_logs,
    containers,
    export_failure_lines,
    prometheus,
    run,
    uptime_seconds,
    wait_for_series,
)

pytestmark = [pytest.mark.docker, pytest.mark.timeout(1500)]


def driven_apps() -> list[lab_stages.App]:
    """Every stage and the dice-roller: the apps traffic-gen drives, by the registry's names
    (the nox session and the traffic-gen target are both the app's name)."""
    return [app for app in lab_stages.apps() if app.find("dice-roller")]


def compose_document(folder: str) -> dict:
    return load_yaml(REPO / "compose" / folder / "compose.yaml")


def assert_healthy(project: str, expected: set[str]) -> None:
    found = {container.service: container for container in containers(project)}
    assert set(found) == expected, f"{project}: containers {sorted(found)}, compose has {expected}"
    unhealthy = [f"{c.name}: {c.status}" for c in found.values() if "(healthy)" not in c.status]
    assert not unhealthy, unhealthy


def assert_discovered(project: str, services: dict[str, dict]) -> None:
    """Each service with lab.metrics.port is up in Prometheus with the stack's labels; the rest
    is not scraped at all."""
    for name, service in services.items():
        selector = f'compose_project="{project}",compose_service="{name}"'
        if "lab.metrics.port" in service.get("labels", {}):
            (series,) = wait_for_series(f"up{{{selector}}} == 1")
            assert series["metric"]["service_name"] == name
            assert series["metric"]["container_name"] == service.get("container_name", name)
        else:
            assert prometheus(f"up{{{selector}}}") == [], f"{project}/{name} has no opt-in label"


def assert_export_failures_are_rare(document: dict) -> None:
    """With no Alloy to send to, each traced service says so at most once per export interval
    (the SDK's 5 s), never once per request: a learner's terminal stays readable."""
    for service in document["services"].values():
        if "OTEL_EXPORTER_OTLP_ENDPOINT" not in service.get("environment", {}):
            continue
        name = service["container_name"]
        said = export_failure_lines(name)
        assert len(said) <= uptime_seconds(name) / 5 + 1, f"{name}: {len(said)} lines: {said[:3]}"


def assert_profiling_on(document: dict) -> None:
    """Each service given PYROSCOPE_SERVER_ADDRESS started the Pyroscope agent, under its compose
    file's hardening (read-only root, no capabilities, no new privileges, a user of its own): its
    log says where it profiles to. A frontend starts its telemetry with the page's first view."""
    for service in document["services"].values():
        address = service.get("environment", {}).get("PYROSCOPE_SERVER_ADDRESS")
        if not address:
            continue
        name, said = service["container_name"], f"profiling to {address}"
        poll_until(
            lambda name=name, said=said: [
                line for line in container_logs(name) if line.get("message") == said
            ],
            timeout=30,
            what=f"{name}: profiling to {address}",
        )


def drive_with_traffic_gen(target: str) -> dict:
    result = run(
        ["uv", "run", "--locked", "traffic-gen", "--target", target, "--users", "3",
         "--max-requests-per-user", "15", "--think-time", "0-0.1", "--seed", "7", "--json"],
        cwd=REPO, timeout=300,
    )  # fmt: skip
    summary = json.loads(result.stdout)
    assert summary["target"] == target
    assert summary["requests"] >= 30, summary
    return summary


def roll_in_the_page(page, stage: lab_stages.App) -> None:
    """The stage's frontend through its published port: a roll shows its result and trace link,
    and the caption names addresses a browser can open, not container names."""
    page.goto(stage.service("frontend").url)
    page.get_by_role("button", name="Roll", exact=True).click()
    page.get_by_text("die rolled").first.wait_for()
    assert len(page.locator("a[href*='/explore?']").first.inner_text().strip()) == 32
    caption = page.get_by_text(f"Stage {stage.stage}:").inner_text()
    assert stage.service("dice-roller").url in caption
    assert f"{stage.package}-" not in caption, caption  # container names (stage2-dice-roller)


@pytest.mark.parametrize("app", driven_apps(), ids=lambda app: app.name)
def test_an_app_comes_up_healthy_is_scraped_by_its_labels_and_takes_traffic(
    lab: Lab, app: lab_stages.App, browser_page
) -> None:
    folder = app.compose
    document = compose_document(folder)
    lab.nox("-s", app.name)
    try:
        assert_healthy(document["name"], set(document["services"]))
        assert_discovered(document["name"], document["services"])
        summary = drive_with_traffic_gen(app.name)
        served = [name for name, stats in summary["endpoints"].items() if stats["requests"]]
        assert served, summary
        if app.find("frontend"):
            roll_in_the_page(browser_page, app)
        assert_profiling_on(document)
        if "alloy" in lab.held_back("stack"):
            assert_export_failures_are_rare(document)
    finally:
        lab.compose(folder, "down")


def test_the_http_console_calls_the_dice_roller_container(lab: Lab, browser_page) -> None:
    lab.nox("-s", "http-console")
    try:
        assert_healthy("http-console", {"http-console"})
        assert_discovered("http-console", compose_document("http-console")["services"])
        page = browser_page
        page.goto("http://127.0.0.1:8002")
        page.locator("#url").fill("http://demo-dice-roller:8000/roll/4d6")
        page.locator("#send").click()
        page.locator("#status").get_by_text("200 OK").wait_for()
        body = json.loads(page.locator("#response-body").inner_text())
        assert len(body["rolls"]) == 4
    finally:
        lab.compose("http-console", "down")
        lab.compose("dice-roller", "down")


def test_an_unlabelled_container_on_the_lab_network_is_seen_but_not_scraped(lab: Lab) -> None:
    lab.nox("-s", "stack")
    name = "lab-test-unlabelled"
    run(["docker", "run", "--detach", "--rm", "--name", name, "--network", "observability-lab",
         "observability-lab/alert-receiver:0.1.0"])  # fmt: skip
    try:
        # Discovery saw it (it is among the dropped targets), and the opt-in rule dropped it.
        poll_until(lambda: name in targets("dropped"), timeout=60, what=f"{name} discovered")
        assert name not in targets("active")
    finally:
        run(["docker", "rm", "--force", name], timeout=60)


def targets(state: str) -> set[str]:
    """Container names of Prometheus's Docker-discovered targets in `state` (active, dropped)."""
    response = httpx.get(f"{PROMETHEUS}/api/v1/targets", params={"state": state}, timeout=10)
    found = response.json()["data"][f"{state}Targets"]
    return {
        target["discoveredLabels"].get("__meta_docker_container_name", "").lstrip("/")
        for target in found
    }
