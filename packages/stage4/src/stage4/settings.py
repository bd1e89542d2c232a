"""Stage 4's settings: stage 3's, and a bound on concurrent fan-outs."""

from pydantic import Field
from stage3 import settings as stage3


class DiceRollerSettings(stage3.DiceRollerSettings):
    stage = "stage-4"

    # /roll-async requests served at once; past it a 503 with Retry-After.
    max_concurrent_fanouts: int = Field(default=16, ge=1, le=10_000)


class FrontendSettings(stage3.FrontendSettings):
    stage = "stage-4"


class DieServiceSettings(stage3.DieServiceSettings):
    stage = "stage-4"
