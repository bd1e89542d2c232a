"""The frontend's logic, kept out of the Streamlit page so it can be tested on its own."""

import logging
from dataclasses import dataclass

import httpx
from lab_telemetry import Telemetry, log_usage, setup_telemetry
from opentelemetry import trace
from prometheus_client import Counter, start_http_server

from stage2.settings import FrontendSettings

SERVICE_NAME = "frontend"
DICE = ("fair", "risky")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    die: str
    trace_id: str
    value: int | None = None
    error: str | None = None


@dataclass
class Runtime:
    """Everything made once per process: telemetry, the HTTP client, the metrics."""

    settings: FrontendSettings
    telemetry: Telemetry
    client: httpx.Client
    rolls: Counter


# The runtime the entry point started before Streamlit (None when a test runs the page alone).
started: Runtime | None = None


def start_runtime(settings: FrontendSettings) -> Runtime:
    telemetry = setup_telemetry(SERVICE_NAME)
    rolls = telemetry.metrics.counter(
        "frontend_rolls_total",
        "Rolls asked for in the page, by die and outcome.",
        ("die", "outcome"),
    )
    for die in DICE:
        for outcome in ("ok", "error"):
            rolls.labels(die, outcome)  # series at 0 from the start
    start_http_server(settings.metrics_port, settings.host, registry=telemetry.metrics.registry)
    # One client per process: connections are reused across clicks and sessions.
    client = httpx.Client(base_url=settings.dice_roller_url, timeout=settings.timeout_seconds)
    return Runtime(settings, telemetry, client, rolls)


def roll(runtime: Runtime, die: str) -> Outcome:
    """One click: a span in service `frontend` whose child is the call to the dice-roller."""
    with runtime.telemetry.tracer.start_as_current_span("roll die") as span:
        span.set_attribute("die", die)
        trace_id = trace.format_trace_id(span.get_span_context().trace_id)
        outcome = _call_dice_roller(runtime, die, trace_id)
        if outcome.error:
            span.set_status(trace.Status(trace.StatusCode.ERROR, outcome.error))
            logger.error("roll failed: %s", outcome.error, extra={"die": die})
        else:
            log_usage("roll", die=die, value=outcome.value)
        runtime.rolls.labels(die, "error" if outcome.error else "ok").inc()
        return outcome


def _call_dice_roller(runtime: Runtime, die: str, trace_id: str) -> Outcome:
    url = runtime.settings.dice_roller_url
    try:
        response = runtime.client.get("/roll", params={"die": die})
    except httpx.ConnectError:
        return Outcome(
            die, trace_id, error=f"The dice-roller at {url} is not answering. Is it running?"
        )
    except httpx.TimeoutException:
        return Outcome(die, trace_id, error=f"The dice-roller at {url} took too long to answer.")
    except httpx.HTTPError as exc:
        return Outcome(die, trace_id, error=f"Could not reach the dice-roller at {url}: {exc}")
    if response.status_code != 200:
        return Outcome(
            die,
            trace_id,
            error=f"The dice-roller answered {response.status_code}: {_detail(response)}",
        )
    return Outcome(die, trace_id, value=response.json()["value"])


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json()["detail"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase
