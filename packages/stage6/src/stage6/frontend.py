"""Stage 6's frontend: a form switches a die's faults while everything runs; it starts from the
die's faults as they are and sends only what the learner changed."""

from pathlib import Path

from lab_frontend.launcher import serve_page
from lab_frontend.runtime import Runtime, Unanswered, call, detail, get_json

from stage6.settings import FrontendSettings


class FaultsError(ValueError):
    """Faults that could not be changed; the message is for the page."""


FAULT_FIELDS = ("failure_rate", "slow_rate", "delay_range_seconds")


def current_faults(runtime: Runtime, die: str) -> dict:
    """The die's faults as the die-service has them now (raises FaultsError)."""
    assert runtime.die_service is not None, "stage 6's settings name the die-service"
    try:
        spec = get_json(runtime.die_service, "die-service", f"/dice/{die}")
    except Unanswered as exc:
        raise FaultsError(str(exc)) from None
    return {field: spec[field] for field in FAULT_FIELDS}


def set_faults(runtime: Runtime, die: str, changes: dict) -> str:
    """Change some of a die's faults, the others kept; the message for the page (raises
    FaultsError). The dice-roller asks for the die on every roll: the next roll has them."""
    if not changes:
        return f"Nothing to change: the {die} die already has these faults."
    assert runtime.die_service is not None, "stage 6's settings name the die-service"
    with runtime.telemetry.tracer.start_as_current_span("set faults", attributes={"die": die}):
        try:
            response = call(
                runtime.die_service, "die-service", "PATCH", f"/dice/{die}/faults", json=changes
            )
        except Unanswered as exc:
            raise FaultsError(str(exc)) from None
    if response.status_code != 200:
        refused = f"The die-service refused it ({response.status_code}): {detail(response)}"
        raise FaultsError(refused)
    spec = response.json()
    low, high = spec["delay_range_seconds"]
    return (
        f"The {die} die now fails {spec['failure_rate']:.0%} of rolls and is slow "
        f"({low:g}-{high:g} s) in {spec['slow_rate']:.0%}."
    )


def main() -> None:
    serve_page(Path(__file__).with_name("page.py"), FrontendSettings, "stage6-frontend")
