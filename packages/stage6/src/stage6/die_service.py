"""Stage 6's die-service: stage 5's, and PATCH /dice/NAME/faults to change a die's faults while
everything runs (faults.py holds the body, the SQL and the dice_fault_ratio gauge)."""

import logging
from typing import Annotated

from fastapi import APIRouter, FastAPI, HTTPException
from lab_dice.deps import from_state
from lab_dice.dice import DieSpec
from lab_dice.errors import error_responses
from lab_telemetry import log_usage
from stage5 import die_service as stage5

from stage6.faults import Faults, FaultyDiceStore
from stage6.settings import DieServiceSettings

logger = logging.getLogger(__name__)
router = APIRouter()


@router.patch("/dice/{name}/faults", responses=error_responses(400, 404, 503))
async def set_faults(
    store: Annotated[FaultyDiceStore, from_state("store")], name: str, faults: Faults
) -> DieSpec:
    # The dice-roller asks for the die on every roll, so the change holds from the next one.
    spec = await store.set_faults(name, faults)
    if spec is None:
        raise HTTPException(404, f"no die named {name[:40]!r}")
    changes = faults.model_dump(exclude_unset=True)
    # A WARNING, in the request's span: the line that explains the incident that follows.
    logger.warning(
        f"faults of the {name} die changed: "
        + ", ".join(f"{key}={value}" for key, value in changes.items()),
        extra={"die": name, **changes},
    )
    log_usage("set_faults", die=name, **changes)
    return spec


def create_app(store: FaultyDiceStore) -> FastAPI:
    app = stage5.create_app(store)
    store.report_faults(app.state.metrics)  # dice_fault_ratio: each die's faults, on /metrics
    app.include_router(router)
    return app


def main() -> None:
    stage5.main(DieServiceSettings, "stage6-die-service", FaultyDiceStore, create_app)
