"""Stage 4's dice-roller: stage 3's GET /roll, and GET /roll-async?die=NAME&times=N, whose dice
are rolled concurrently, each in a span of its own under the request's."""

import asyncio
import logging
import random
from typing import Annotated

from fastapi import APIRouter, FastAPI, HTTPException, Query
from lab_dice.deps import from_state
from lab_dice.dice import DieSpec
from lab_dice.errors import error_responses
from lab_telemetry import load_settings, log_usage, serve
from opentelemetry import trace
from pydantic import BaseModel
from stage1.dice_roller import DiceMeters, Meters
from stage3 import dice_roller as stage3
from stage3.dice_roller import DieQuery, DieService, Rng, fetch_spec

from stage4.settings import DiceRollerSettings

MAX_TIMES = 100
# How long a die tumbles before it lands: each roll awaits it, so concurrent rolls overlap.
TUMBLE_SECONDS = (0.005, 0.02)
logger = logging.getLogger(__name__)
router = APIRouter()


class ManyRollsResult(BaseModel):
    die: str
    times: int
    values: list[int]
    failed: int
    sum: int
    # How often each face came up, by face.
    distribution: dict[int, int]


class Fanouts:
    """How many /roll-async requests run now (asyncio runs one handler step at a time)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running = 0


async def roll_once(
    tracer: trace.Tracer, die: str, spec: DieSpec, rng: random.Random, meters: DiceMeters
) -> int | None:
    """One roll in its own span, a child of the request's; None when it failed."""
    with tracer.start_as_current_span("roll", attributes={"die": die}) as span:
        await asyncio.sleep(rng.uniform(*TUMBLE_SECONDS))
        if rng.random() < spec.slow_rate:
            await asyncio.sleep(rng.uniform(*spec.delay_range_seconds))
        if rng.random() < spec.failure_rate:
            meters.failures.labels(die).inc()
            span.set_status(trace.StatusCode.ERROR, "simulated failure")
            logger.error(f"one {die} die fell off the table (simulated failure)")
            return None
        value = rng.choices(spec.faces, weights=spec.weights)[0]
        span.set_attribute("value", value)
        meters.rolls.labels(die, str(value)).inc()
        return value


@router.get("/roll-async", responses=error_responses(404, 503))
async def roll_many(
    die_service: DieService,
    rng: Rng,
    meters: Meters,
    fanouts: Annotated[Fanouts, from_state("fanouts")],
    tracer: Annotated[trace.Tracer, from_state("tracer")],
    die: DieQuery = "fair",
    times: Annotated[int, Query(ge=1, le=MAX_TIMES, description="how many dice")] = 10,
) -> ManyRollsResult:
    # Bounded: past the limit a quick 503 instead of a queue that grows memory and latency.
    if fanouts.running >= fanouts.limit:
        raise HTTPException(
            503,
            f"{fanouts.running} concurrent rolls are already running, the most this dice-roller "
            "takes at once; try again in a second",
            headers={"Retry-After": "1"},
        )
    fanouts.running += 1
    try:
        spec = await fetch_spec(die_service, die)
        # All at once: the rolls wait concurrently, so `times` dice take as long as the slowest.
        rolls = (roll_once(tracer, die, spec, rng, meters) for _ in range(times))
        outcomes = await asyncio.gather(*rolls)
    finally:
        fanouts.running -= 1
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


def create_app(
    settings: DiceRollerSettings | None = None,
    rng: random.Random | None = None,
    *,
    routes: APIRouter = stage3.router,
) -> FastAPI:
    """`routes`: a later stage's in place of stage 3's GET /roll (stage 7's)."""
    settings = settings or DiceRollerSettings()
    app = stage3.create_app(settings, rng, routes=routes)
    app.state.fanouts = Fanouts(settings.max_concurrent_fanouts)
    app.include_router(router)
    return app


def main(
    settings_class: type[DiceRollerSettings] = DiceRollerSettings,
    program: str = "stage4-dice-roller",
) -> None:
    settings = load_settings(settings_class, program)
    serve(create_app(settings), settings.host, settings.port)
