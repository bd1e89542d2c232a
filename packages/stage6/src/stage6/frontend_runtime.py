"""The frontend's logic, kept out of the Streamlit page so it can be tested on its own."""

import logging
from dataclasses import dataclass

import httpx
from lab_telemetry import Telemetry, log_usage, setup_telemetry
from opentelemetry import trace
from prometheus_client import Counter, start_http_server

from stage6.settings import FrontendSettings

SERVICE_NAME = "frontend"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    die: str
    trace_id: str
    # One die: its value. Several (roll_many): their sum, every value and how often each face came.
    value: int | None = None
    error: str | None = None
    times: int = 1
    distribution: dict[int, int] | None = None


@dataclass
class Runtime:
    """Everything made once per process: telemetry, the HTTP client, the metrics."""

    settings: FrontendSettings
    telemetry: Telemetry
    client: httpx.Client
    die_service: httpx.Client
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
    start_http_server(settings.metrics_port, settings.host, registry=telemetry.metrics.registry)
    # One client per process: connections are reused across clicks and sessions.
    client = httpx.Client(base_url=settings.dice_roller_url, timeout=settings.timeout_seconds)
    die_service = httpx.Client(base_url=settings.die_service_url, timeout=settings.timeout_seconds)
    return Runtime(settings, telemetry, client, die_service, rolls)


def list_dice(runtime: Runtime) -> list[str]:
    """The names of the dice the die-service offers; raises DiceUnavailable when it is down."""
    url = runtime.settings.die_service_url
    with runtime.telemetry.tracer.start_as_current_span("list dice"):
        try:
            response = runtime.die_service.get("/dice")
            response.raise_for_status()
        except httpx.HTTPError as exc:
            logger.error("cannot list dice: %s", exc)
            raise DiceUnavailable(
                f"The die-service at {url} is not answering, so there are no dice to pick."
            ) from None
        return [die["name"] for die in response.json()["dice"]]


def add_die(runtime: Runtime, name: str, faces: str, weights: str, failure_rate: float) -> str:
    """POST a new die to the die-service; the message for the page (raises AddDieError)."""
    try:
        spec: dict = {
            "name": name.strip(),
            "faces": [int(f) for f in faces.replace(",", " ").split()],
            "failure_rate": failure_rate,
        }
        if weights.strip():
            spec["weights"] = [float(w) for w in weights.replace(",", " ").split()]
    except ValueError:
        raise AddDieError("Faces are whole numbers and weights are numbers, e.g. 1, 2, 3") from None
    with runtime.telemetry.tracer.start_as_current_span(
        "add die", attributes={"die": spec["name"]}
    ):
        try:
            response = runtime.die_service.post("/dice", json=spec)
        except httpx.HTTPError:
            url = runtime.settings.die_service_url
            raise AddDieError(f"The die-service at {url} is not answering.") from None
    if response.status_code == 201:
        # The die-service writes the add_die usage event, for the API's POSTs as for this form.
        return f"Added the die {spec['name']!r}."
    raise AddDieError(f"The die-service refused it ({response.status_code}): {_detail(response)}")


def set_faults(
    runtime: Runtime, die: str, failure_rate: float, slow_rate: float, delay: tuple[float, float]
) -> str:
    """Change a die's faults while everything runs; the message for the page (raises
    FaultsError). The dice-roller asks for the die on every roll: the next roll has them."""
    faults = {"failure_rate": failure_rate, "slow_rate": slow_rate, "delay_range_seconds": delay}
    with runtime.telemetry.tracer.start_as_current_span("set faults", attributes={"die": die}):
        try:
            response = runtime.die_service.patch(f"/dice/{die}/faults", json=faults)
        except httpx.HTTPError:
            url = runtime.settings.die_service_url
            raise FaultsError(f"The die-service at {url} is not answering.") from None
    if response.status_code == 200:
        return (
            f"The {die} die now fails {failure_rate:.0%} of rolls and is slow "
            f"({delay[0]:g}-{delay[1]:g} s) in {slow_rate:.0%}."
        )
    raise FaultsError(f"The die-service refused it ({response.status_code}): {_detail(response)}")


class AddDieError(ValueError):
    """A die that could not be added; the message is for the page."""


class FaultsError(ValueError):
    """Faults that could not be changed; the message is for the page."""


class DiceUnavailable(RuntimeError):
    """The die-service cannot be asked for its dice; the message is for the page."""


def roll(runtime: Runtime, die: str, times: int = 1) -> Outcome:
    """One click: a span in service `frontend` whose child is the call to the dice-roller."""
    with runtime.telemetry.tracer.start_as_current_span("roll die") as span:
        span.set_attributes({"die": die, "times": times})
        trace_id = trace.format_trace_id(span.get_span_context().trace_id)
        outcome = _call_dice_roller(runtime, die, trace_id, times)
        if outcome.error:
            span.set_status(trace.Status(trace.StatusCode.ERROR, outcome.error))
            logger.error("roll failed: %s", outcome.error, extra={"die": die})
        else:
            log_usage("roll", die=die, value=outcome.value)
        runtime.rolls.labels(die, "error" if outcome.error else "ok").inc()
        return outcome


def _call_dice_roller(runtime: Runtime, die: str, trace_id: str, times: int) -> Outcome:
    url = runtime.settings.dice_roller_url
    try:
        if times == 1:
            response = runtime.client.get("/roll", params={"die": die})
        else:
            response = runtime.client.get("/roll-async", params={"die": die, "times": times})
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
    body = response.json()
    if times == 1:
        return Outcome(die, trace_id, value=body["value"])
    distribution = {int(face): count for face, count in body["distribution"].items()}
    return Outcome(die, trace_id, value=body["sum"], times=times, distribution=distribution)


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json()["detail"]
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase
    if isinstance(detail, list):  # FastAPI's validation errors: say where and what
        return "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', [])[1:])}: {e.get('msg')}" for e in detail
        )
    return str(detail)
