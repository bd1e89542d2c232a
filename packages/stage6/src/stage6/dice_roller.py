"""Stage 6's dice-roller: GET /roll?die=NAME, and GET /roll-async?die=NAME&times=N concurrently."""

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import httpx
from fastapi import FastAPI, HTTPException, Query
from lab_telemetry import instrument_app, load_settings, log_usage, serve, setup_telemetry
from opentelemetry import trace
from pydantic import BaseModel

from stage6.dice_spec import DIE_NAME_PATTERN, DieSpec
from stage6.errors import error_responses
from stage6.settings import DiceRollerSettings

SERVICE_NAME = "dice-roller"
MAX_TIMES = 100
# How long a die tumbles before it lands: each roll awaits it, so concurrent rolls overlap.
TUMBLE_SECONDS = (0.005, 0.02)
logger = logging.getLogger(__name__)
# The die's name, validated before it is put into the die-service's URL or a metric label.
DieQuery = Annotated[str, Query(pattern=DIE_NAME_PATTERN, description="a die's name, e.g. fair")]


class RollResult(BaseModel):
    die: str
    value: int


class ManyRollsResult(BaseModel):
    die: str
    times: int
    values: list[int]
    failed: int
    sum: int
    # How often each face came up, by face.
    distribution: dict[int, int]


def die_service_unavailable(where: str, reason: str) -> HTTPException:
    """A 503 for a die-service that failed us, logged inside the request's span first."""
    logger.warning(f"{where} {reason}", extra={"dependency": "die-service"})
    return HTTPException(503, f"{where} {reason}; try again", headers={"Retry-After": "2"})


async def fetch_spec(client: httpx.AsyncClient, die: str) -> DieSpec:
    """The die's specification; 404 if the die-service has no such die, 503 if it failed us.

    `die` has matched DIE_NAME_PATTERN, so it is one safe path segment.
    """
    where = f"the die-service at {client.base_url}"
    try:
        response = await client.get(f"/dice/{die}")
    except httpx.TimeoutException:
        raise die_service_unavailable(where, "did not answer in time") from None
    except httpx.HTTPError as exc:
        raise die_service_unavailable(where, f"is not answering ({type(exc).__name__})") from None
    if response.status_code == 404:
        raise HTTPException(404, f"unknown die {die!r}: the die-service has no such die")
    if response.status_code != 200:
        raise die_service_unavailable(where, f"answered {response.status_code}")
    try:
        return DieSpec.model_validate(response.json())
    except ValueError:  # not JSON, or not a die
        raise die_service_unavailable(where, "answered with something that is not a die") from None


def create_app(
    settings: DiceRollerSettings | None = None, rng: random.Random | None = None
) -> FastAPI:
    settings = settings or DiceRollerSettings()
    rng = rng or random.Random()
    client: httpx.AsyncClient | None = None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        nonlocal client
        # One client for the app's life: connections to the die-service are reused.
        client = httpx.AsyncClient(
            base_url=settings.die_service_url, timeout=settings.timeout_seconds
        )
        async with client:
            yield

    telemetry = setup_telemetry(SERVICE_NAME)
    # FastAPI traces every request itself: server span and operation spans.
    app = FastAPI(title="dice-roller", lifespan=lifespan, telemetry=telemetry.fastapi)
    instrument_app(app, telemetry.metrics)
    rolls = telemetry.metrics.counter(
        "dice_rolls_total", "Rolls by die and value.", ("die", "value")
    )
    failures = telemetry.metrics.counter(
        "dice_roll_failures_total", "Failed rolls by die.", ("die",)
    )

    tracer = telemetry.tracer

    async def roll_once(die: str, spec: DieSpec) -> int | None:
        """One roll in its own span, a child of the request's; None when it failed."""
        with tracer.start_as_current_span("roll", attributes={"die": die}) as span:
            await asyncio.sleep(rng.uniform(*TUMBLE_SECONDS))
            if rng.random() < spec.slow_rate:
                await asyncio.sleep(rng.uniform(*spec.delay_range_seconds))
            if rng.random() < spec.failure_rate:
                failures.labels(die).inc()
                span.set_status(trace.StatusCode.ERROR, "simulated failure")
                logger.error(f"one {die} die fell off the table (simulated failure)")
                return None
            value = rng.choices(spec.faces, weights=spec.weights)[0]
            span.set_attribute("value", value)
            rolls.labels(die, str(value)).inc()
            return value

    in_flight = 0  # fan-outs running now; asyncio runs one handler step at a time

    @app.get("/roll-async", responses=error_responses(404, 503))
    async def roll_many(
        die: DieQuery = "fair",
        times: Annotated[int, Query(ge=1, le=MAX_TIMES, description="how many dice")] = 10,
    ) -> ManyRollsResult:
        nonlocal in_flight
        # Bounded: past the limit a quick 503 instead of a queue that grows memory and latency.
        if in_flight >= settings.max_concurrent_fanouts:
            raise HTTPException(
                503,
                f"{in_flight} concurrent rolls are already running, the most this dice-roller "
                "takes at once; try again in a second",
                headers={"Retry-After": "1"},
            )
        assert client is not None, "the lifespan opens the client"
        in_flight += 1
        try:
            spec = await fetch_spec(client, die)
            # All at once: the rolls wait concurrently, so `times` dice take as long as the
            # slowest.
            outcomes = await asyncio.gather(*(roll_once(die, spec) for _ in range(times)))
        finally:
            in_flight -= 1
        values = [v for v in outcomes if v is not None]
        log_usage("roll_many", die=die, times=times, failed=times - len(values))
        return ManyRollsResult(
            die=die,
            times=times,
            values=values,
            failed=times - len(values),
            sum=sum(values),
            distribution={face: values.count(face) for face in sorted(set(values))},
        )

    @app.get("/roll", responses=error_responses(404, 500, 503))
    async def roll(die: DieQuery = "fair") -> RollResult:
        assert client is not None, "the lifespan opens the client"
        spec = await fetch_spec(client, die)
        if rng.random() < spec.slow_rate:
            delay = rng.uniform(*spec.delay_range_seconds)
            logger.warning(f"the {die} die is slow this time", extra={"delay": delay})
            await asyncio.sleep(delay)
        if rng.random() < spec.failure_rate:
            failures.labels(die).inc()
            logger.error(f"the {die} die fell off the table (simulated failure)")
            raise HTTPException(500, f"the {die} die fell off the table (simulated failure)")
        value = rng.choices(spec.faces, weights=spec.weights)[0]
        rolls.labels(die, str(value)).inc()
        log_usage("roll", die=die, value=value)
        return RollResult(die=die, value=value)

    return app


def main() -> None:
    settings = load_settings(DiceRollerSettings, "stage6-dice-roller")
    serve(create_app(settings), settings.host, settings.port)
