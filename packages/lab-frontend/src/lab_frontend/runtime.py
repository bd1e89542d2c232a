"""What a frontend makes once per process, and its calls to the stage's services in words."""

from dataclasses import dataclass

import httpx
from lab_dice.settings import FrontendSettings
from lab_telemetry import Telemetry, setup_telemetry
from prometheus_client import Counter, start_http_server

SERVICE_NAME = "frontend"


@dataclass(frozen=True)
class Outcome:
    """One click's result for the page: a value, or an error in words, and the click's trace."""

    die: str
    trace_id: str = ""
    # One die: its value. Several: their sum, and how often each face came.
    value: int | None = None
    error: str | None = None
    times: int = 1
    distribution: dict[int, int] | None = None


@dataclass
class Runtime:
    """Everything made once per process: telemetry, the HTTP clients, the metrics."""

    settings: FrontendSettings
    telemetry: Telemetry
    dice_roller: httpx.Client
    # From stage 3 on, the page also asks the die-service (which dice there are).
    die_service: httpx.Client | None
    rolls: Counter


def start_runtime(settings: FrontendSettings) -> Runtime:
    telemetry = setup_telemetry(SERVICE_NAME)
    rolls = telemetry.metrics.counter(
        "frontend_rolls_total",
        "Rolls asked for in the page, by die and outcome.",
        ("die", "outcome"),
    )
    start_http_server(settings.metrics_port, settings.host, registry=telemetry.metrics.registry)
    # One client per service and process: connections are reused across clicks and sessions.
    timeout = settings.timeout_seconds
    die_service_url = getattr(settings, "die_service_url", None)
    return Runtime(
        settings,
        telemetry,
        httpx.Client(base_url=settings.dice_roller_url, timeout=timeout),
        httpx.Client(base_url=die_service_url, timeout=timeout) if die_service_url else None,
        rolls,
    )


class Unanswered(RuntimeError):
    """A service that did not give what was asked; the message is for the page."""


def call(client: httpx.Client, service: str, method: str, path: str, **kwargs) -> httpx.Response:
    """The response, whatever its status; Unanswered when the service cannot be reached."""
    url = str(client.base_url).rstrip("/")
    try:
        return client.request(method, path, **kwargs)
    except httpx.ConnectError:
        raise Unanswered(f"The {service} at {url} is not answering. Is it running?") from None
    except httpx.TimeoutException:
        raise Unanswered(f"The {service} at {url} took too long to answer.") from None
    except httpx.HTTPError as exc:
        raise Unanswered(f"Could not reach the {service} at {url}: {exc}") from None


def get_json(client: httpx.Client, service: str, path: str, **params: object) -> dict:
    """GET's JSON body; Unanswered, with the service's own words, for anything but a 200."""
    response = call(client, service, "GET", path, params=params)
    if response.status_code != 200:
        raise Unanswered(f"The {service} answered {response.status_code}: {detail(response)}")
    return response.json()


def detail(response: httpx.Response) -> str:
    """What an error response says was wrong: its `detail`, or the start of its body."""
    try:
        detail = response.json()["detail"]
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase
    if isinstance(detail, list):  # FastAPI's validation errors: say where and what
        return "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', [])[1:])}: {e.get('msg')}" for e in detail
        )
    return str(detail)
