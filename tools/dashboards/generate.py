"""A dashboard per tutorial stage, as the JSON Grafana provisions: `python -m tools.dashboards`."""

import json
from importlib import import_module
from pathlib import Path
from types import ModuleType

import lab_stages
from grafana_foundation_sdk.builders.dashboard import Dashboard, DashboardLink
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DashboardLinkType

from tools.dashboards import shared

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "compose" / "stack" / "grafana" / "dashboards"


def stages() -> list[int]:
    """Every tutorial stage in the registry, by number; stage N's own panels are in stage_N.py."""
    return [app.stage for app in lab_stages.stages() if app.stage is not None]


def stage_module(number: int) -> ModuleType:
    return import_module(f"{__package__}.stage_{number}")


def path(number: int) -> Path:
    return FOLDER / f"stage-{number}.json"


def dashboard(number: int) -> Dashboard:
    stage = stage_module(number)
    # The compose project, which the services also report as their service.namespace.
    project = lab_stages.app(f"stage-{number}").project
    builder = (
        Dashboard(f"Stage {number}: {stage.TITLE}")
        # The uid is the dashboard's URL (/d/lab-stage-N) that the tutorials link to.
        .uid(f"lab-stage-{number}")
        .description(f"Tutorial stage {number} (compose project {project}): {stage.SUMMARY}")
        .tags(["observability-lab", "tutorial"])
        .timezone("browser")
        .readonly()
        .refresh("10s")
        .time("now-15m", "now")
        .version(1)
        .variables([])
        .annotations([])
    )
    # A stage's `first_panels`, if it has them, open its dashboard: what the stage adds, on top.
    first = stage.first_panels(project) if hasattr(stage, "first_panels") else []
    every = [*first, *shared.panels(project), *stage.panels(project)]
    for panel_id, panel in enumerate(every, start=1):
        builder.with_panel(panel.id(panel_id))
    if stage.LINKS:
        builder.links(
            [
                DashboardLink(title).type(DashboardLinkType.LINK).url(url)
                for title, url in stage.LINKS
            ]
        )
    return builder


def render(number: int) -> str:
    return json.dumps(dashboard(number).build(), cls=JSONEncoder, indent=2) + "\n"


def write() -> list[Path]:
    """Write every stage's dashboard; returns the files written."""
    for number in stages():
        path(number).write_text(render(number))
    return [path(number) for number in stages()]
