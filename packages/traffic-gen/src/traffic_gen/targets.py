"""Where each target lives by default, and how to start it when it is not running."""

from dataclasses import dataclass
from functools import cache

import lab_stages

HEALTH_PATH = "/healthz"


@dataclass(frozen=True)
class Target:
    name: str
    # The service traffic goes to (the dice-roller), and the die-service from stage 3 on.
    base_url: str
    health_path: str
    start_hint: str
    die_service_url: str | None = None


@cache
def targets() -> dict[str, Target]:
    """Every stage and demo app with a dice-roller to drive, by its name (lab_stages)."""
    found = {}
    for app in lab_stages.apps():
        roller, die_service = app.find("dice-roller"), app.find("die-service")
        if roller is None or roller.url is None:
            continue
        found[app.name] = Target(
            app.name,
            roller.url,
            HEALTH_PATH,
            f"uv run nox -s {app.name}",
            die_service_url=die_service.url if die_service else None,
        )
    return found


def detection_order() -> list[str]:
    """When no --target is given, the first of these that answers is driven: the newest stage
    first, the demo apps last."""
    return sorted(targets(), key=lambda name: -(lab_stages.app(name).stage or 0))
