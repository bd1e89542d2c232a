"""Stage 2's frontend: a click is a span whose child is the call to the dice-roller.

`stage2-frontend` starts this, then Streamlit serves page.py, which calls roll() on each click.
"""

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from lab_frontend.launcher import serve_page
from lab_frontend.runtime import Outcome, Runtime, Unanswered, get_json, start_runtime
from lab_telemetry import log_usage
from opentelemetry import trace
from stage1.dice_roller import DICE

from stage2.settings import FrontendSettings

logger = logging.getLogger(__name__)


def start(settings: FrontendSettings) -> Runtime:
    runtime = start_runtime(settings)
    for die in DICE:
        for outcome in ("ok", "error"):
            runtime.rolls.labels(die, outcome)  # series at 0 from the start
    return runtime


def ask_dice_roller(runtime: Runtime, die: str) -> Outcome:
    body = get_json(runtime.dice_roller, "dice-roller", "/roll", die=die)
    return Outcome(die, value=body["value"])


def roll(
    runtime: Runtime,
    die: str,
    ask: Callable[[Runtime, str], Outcome] = ask_dice_roller,
    **attributes: int,
) -> Outcome:
    """One click: a span in service `frontend`; the HTTP call to the dice-roller inside it is its
    child, and the dice-roller's server span continues the same trace (httpx sends traceparent)."""
    tracer = runtime.telemetry.tracer
    with tracer.start_as_current_span("roll die", attributes={"die": die, **attributes}) as span:
        trace_id = trace.format_trace_id(span.get_span_context().trace_id)
        try:
            outcome = replace(ask(runtime, die), trace_id=trace_id)
        except Unanswered as exc:
            outcome = Outcome(die, trace_id, error=str(exc))
        if outcome.error:
            span.set_status(trace.Status(trace.StatusCode.ERROR, outcome.error))
            logger.error("roll failed: %s", outcome.error, extra={"die": die})
        else:
            log_usage("roll", die=die, value=outcome.value)
        runtime.rolls.labels(die, "error" if outcome.error else "ok").inc()
        return outcome


def main() -> None:
    serve_page(Path(__file__).with_name("page.py"), FrontendSettings, "stage2-frontend", start)
