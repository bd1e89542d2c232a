"""Stage 3's frontend: the dice to pick from now come from the die-service; a roll is stage 2's."""

import logging
from pathlib import Path

from lab_frontend.launcher import serve_page
from lab_frontend.runtime import Runtime, Unanswered, get_json

from stage3.settings import FrontendSettings

logger = logging.getLogger(__name__)


class DiceUnavailable(RuntimeError):
    """The die-service cannot be asked for its dice; the message is for the page."""


def list_dice(runtime: Runtime) -> list[str]:
    """The names of the dice the die-service offers, in a span of the page's own."""
    assert runtime.die_service is not None, "stage 3's settings name the die-service"
    with runtime.telemetry.tracer.start_as_current_span("list dice"):
        try:
            body = get_json(runtime.die_service, "die-service", "/dice")
        except Unanswered as exc:
            logger.error("cannot list dice: %s", exc)
            url = runtime.settings.die_service_url  # type: ignore[attr-defined]
            raise DiceUnavailable(
                f"The die-service at {url} is not answering, so there are no dice to pick."
            ) from None
        return [die["name"] for die in body["dice"]]


def main() -> None:
    serve_page(Path(__file__).with_name("page.py"), FrontendSettings, "stage3-frontend")
