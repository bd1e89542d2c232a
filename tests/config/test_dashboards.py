"""The stage dashboards are generated (tools/dashboards): the committed JSON is what it writes."""

import json

import pytest

from tests.config.repo_files import DASHBOARDS
from tools.dashboards.generate import path, render, stages

STAGES = stages()


@pytest.mark.parametrize("number", STAGES)
def test_the_committed_stage_dashboard_is_generated(number: int) -> None:
    assert path(number).read_text() == render(number), "stale: run `uv run nox -s dashboards`"


def test_every_stage_dashboard_file_is_generated() -> None:
    stage_files = {dashboard.name for dashboard in DASHBOARDS if dashboard.name.startswith("stage")}
    assert stage_files == {path(number).name for number in STAGES}


@pytest.mark.parametrize("number", STAGES)
def test_a_stage_dashboard_keeps_its_url_and_the_classic_form(number: int) -> None:
    generated = json.loads(render(number))
    # The tutorials and the alerts link to /d/<uid>.
    assert generated["uid"] == f"lab-stage-{number}"
    assert generated["title"].startswith(f"Stage {number}: ")
    # The classic JSON Grafana 13 migrates on load, not a v2 resource (apiVersion, kind, spec).
    assert isinstance(generated["schemaVersion"], int)
    assert not {"apiVersion", "kind", "spec"} & generated.keys()
    ids = [panel["id"] for panel in generated["panels"]]
    assert len(ids) == len(set(ids)), "a panel's id is its URL (viewPanel=<id>)"


def cells(grid: dict) -> set[tuple[int, int]]:
    return {
        (x, y)
        for x in range(grid["x"], grid["x"] + grid["w"])
        for y in range(grid["y"], grid["y"] + grid["h"])
    }


@pytest.mark.parametrize("number", STAGES)
def test_no_two_panels_of_a_stage_dashboard_overlap(number: int) -> None:
    # Grafana would push an overlapped panel down, away from the position the file gives it.
    taken: dict[tuple[int, int], str] = {}
    for panel in json.loads(render(number))["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for cell in cells(grid):
            assert cell not in taken, f"{panel['title']} overlaps {taken[cell]}"
            taken[cell] = panel["title"]
