import random

import pytest
import yaml
from traffic_gen.scenarios import scenario_for
from traffic_gen.stats import RunStats, percentile

from tests.support.paths import REPO


def plan(target: str, seed: int, users: int = 3, per_user: int = 50) -> list[list[tuple]]:
    scenario = scenario_for(target, "http://x", "http://y")
    scenario.dice = ["fair", "risky", "loaded"]
    return [
        [
            (r.method, r.url, r.json is not None)
            for r in (
                scenario.next_request(rng, user, n)
                for rng in [random.Random(f"{seed}:{user}")]
                for n in range(per_user)
            )
        ]
        for user in range(users)
    ]


@pytest.mark.parametrize(
    "target", ["dice-roller", "stage-1", "stage-3", "stage-4", "stage-5", "stage-6", "stage-7"]
)
def test_the_same_seed_gives_the_same_requests(target: str) -> None:
    assert plan(target, 7) == plan(target, 7)
    assert plan(target, 7) != plan(target, 8)


def test_the_mix_is_mostly_fair_some_risky() -> None:
    urls = [url for user in plan("stage-1", 1, users=10, per_user=100) for _, url, _ in user]
    fair = sum(url.endswith("die=fair") for url in urls) / len(urls)
    risky = sum(url.endswith("die=risky") for url in urls) / len(urls)
    assert 0.6 < fair < 0.8 and 0.1 < risky < 0.3


def test_stage_4_sends_async_rolls_and_stage_5_adds_dice() -> None:
    stage4 = [url for user in plan("stage-4", 1, users=5, per_user=100) for _, url, _ in user]
    assert any("/roll-async?" in url for url in stage4)
    stage5 = [r for user in plan("stage-5", 1, users=10, per_user=100) for r in user]
    posts = [r for r in stage5 if r[0] == "POST"]
    assert posts and all(url == "http://y/dice" and has_body for _, url, has_body in posts)


@pytest.mark.parametrize("stage", ["stage-6", "stage-7"])
def test_the_steady_mix_keeps_the_risky_dies_failures_inside_the_error_budget(stage: str) -> None:
    # Stage 7's too: every request is a GET /roll, so every one runs the fairness check.
    urls = [url for user in plan(stage, 1, users=10, per_user=200) for _, url, _ in user]
    assert all("/roll?die=" in url for url in urls)
    risky = sum(url.endswith("die=risky") for url in urls) / len(urls)
    slos = yaml.safe_load((REPO / "compose/stack/prometheus/slos.yaml").read_text())["slos"]
    budget = 1 - next(s["objective"] for s in slos if s["name"] == "availability")
    # The risky die fails 10% of its rolls (dice.json): its share times that is the error rate.
    assert 0.02 < risky < 0.08 and risky * 0.10 < budget / 2


def test_stats_count_errors_by_status_and_percentiles() -> None:
    stats = RunStats()
    for ms in range(1, 101):
        stats.record("GET /roll", 200 if ms % 10 else 500, ms / 1000)
    stats.record("GET /roll", "connection", 0.5)
    summary = stats.summary(elapsed=2.0)
    endpoint = summary["endpoints"]["GET /roll"]
    assert (summary["requests"], summary["errors"]) == (101, 11)
    assert endpoint["errors"] == {500: 10, "connection": 1}
    assert endpoint["p50_ms"] == 51.0
    assert percentile([], 99) == 0.0
