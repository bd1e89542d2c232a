"""Stage 7's frontend: stage 6's, and a switch in the sidebar that keeps the dice-roller's
fairness verdicts (the fix of this chapter's slow rolls), read from and sent to the dice-roller."""

from pathlib import Path

from lab_frontend.launcher import serve_page
from lab_frontend.runtime import Runtime, Unanswered, call, detail, get_json

from stage7.settings import FrontendSettings


class FairnessCheckError(ValueError):
    """The fairness check could not be read or switched; the message is for the page."""


def fairness_cache(runtime: Runtime) -> bool:
    """Whether the dice-roller keeps its fairness verdicts now (raises FairnessCheckError)."""
    try:
        return get_json(runtime.dice_roller, "dice-roller", "/fairness-check")["cache"]
    except Unanswered as exc:
        raise FairnessCheckError(str(exc)) from None


def set_fairness_cache(runtime: Runtime, cache: bool) -> str:
    """Switch the cache of the fairness verdicts; the message for the page (raises
    FairnessCheckError). It holds from the dice-roller's next roll."""
    with runtime.telemetry.tracer.start_as_current_span(
        "set fairness check", attributes={"cache": cache}
    ):
        try:
            response = call(
                runtime.dice_roller, "dice-roller", "PUT", "/fairness-check", json={"cache": cache}
            )
        except Unanswered as exc:
            raise FairnessCheckError(str(exc)) from None
    if response.status_code != 200:
        refused = f"The dice-roller refused it ({response.status_code}): {detail(response)}"
        raise FairnessCheckError(refused)
    if response.json()["cache"]:
        return "The dice-roller now checks each die once and keeps the verdict."
    return "The dice-roller now checks the die before every roll."


def main() -> None:
    serve_page(Path(__file__).with_name("page.py"), FrontendSettings, "stage7-frontend")
