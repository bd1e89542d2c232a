"""Stage 6's frontend: a form switches a die's faults while everything runs."""

from pathlib import Path

from lab_frontend.launcher import serve_page
from lab_frontend.runtime import Runtime, Unanswered, call, detail

from stage6.settings import FrontendSettings


class FaultsError(ValueError):
    """Faults that could not be changed; the message is for the page."""


def set_faults(
    runtime: Runtime, die: str, failure_rate: float, slow_rate: float, delay: tuple[float, float]
) -> str:
    """Change a die's faults; the message for the page (raises FaultsError). The dice-roller asks
    for the die on every roll: the next roll has them."""
    faults = {"failure_rate": failure_rate, "slow_rate": slow_rate, "delay_range_seconds": delay}
    assert runtime.die_service is not None, "stage 6's settings name the die-service"
    with runtime.telemetry.tracer.start_as_current_span("set faults", attributes={"die": die}):
        try:
            response = call(
                runtime.die_service, "die-service", "PATCH", f"/dice/{die}/faults", json=faults
            )
        except Unanswered as exc:
            raise FaultsError(str(exc)) from None
    if response.status_code == 200:
        return (
            f"The {die} die now fails {failure_rate:.0%} of rolls and is slow "
            f"({delay[0]:g}-{delay[1]:g} s) in {slow_rate:.0%}."
        )
    raise FaultsError(f"The die-service refused it ({response.status_code}): {detail(response)}")


def main() -> None:
    serve_page(Path(__file__).with_name("page.py"), FrontendSettings, "stage6-frontend")
