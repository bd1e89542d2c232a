"""Stage 5's dice-roller: GET /roll?die=NAME, and GET /roll-async?die=NAME&times=N concurrently."""

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, HTTPException, Query
from lab_telemetry import instrument_app, load_settings, log_usage, serve
from opentelemetry import trace
from pydantic import BaseModel

from stage5.dice_spec import DieSpec
from stage5.settings import DiceRollerSettings

SERVICE_NAME = "dice-roller"
MAX_TIMES = 100
# How long a die tumbles before it lands: each roll awaits it, so concurrent rolls overlap.
TUMBLE_SECONDS = (0.005, 0.02)
logger = logging.getLogger(__name__)


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


async def fetch_spec(client: httpx.AsyncClient, die: str) -> DieSpec:
    """The die's specification; 422 if the die-service has no such die, 503 if it is down."""
    where = f"the die-service at {client.base_url}"
    try:
        response = await client.get(f"/dice/{die}")
    except httpx.TimeoutException:
        raise HTTPException(503, f"{where} did not answer in time; try again") from None
    except httpx.HTTPError:
        raise HTTPException(503, f"{where} is not answering; try again when it is up") from None
    if response.status_code == 404:
        raise HTTPException(422, f"unknown die {die[:40]!r}: the die-service has no such die")
    if response.status_code != 200:
        raise HTTPException(503, f"{where} answered {response.status_code}; try again")
    return DieSpec.model_validate(response.json())


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

    app = FastAPI(title="dice-roller", lifespan=lifespan)
    telemetry = instrument_app(app, SERVICE_NAME)
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

    @app.get("/roll-async")
    async def roll_many(
        die: str = "fair",
        times: int = Query(default=10, description=f"how many dice, 1 to {MAX_TIMES}"),
    ) -> ManyRollsResult:
        if not 1 <= times <= MAX_TIMES:
            raise HTTPException(422, f"times must be between 1 and {MAX_TIMES}, not {times}")
        assert client is not None, "the lifespan opens the client"
        spec = await fetch_spec(client, die)
        # All at once: the rolls wait concurrently, so `times` dice take as long as the slowest.
        outcomes = await asyncio.gather(*(roll_once(die, spec) for _ in range(times)))
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

    @app.get("/roll")
    async def roll(die: str = "fair") -> RollResult:
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
    settings = load_settings(DiceRollerSettings, "stage5-dice-roller")
    serve(create_app(settings), settings.host, settings.port)
