"""Stage 7's settings: stage 6's, on stage 7's ports, and how many rolls the fairness check
simulates."""

from pydantic import Field
from stage6 import settings as stage6


class DiceRollerSettings(stage6.DiceRollerSettings):
    stage = "stage-7"

    # About a quarter of a second of one core's time per check (fairness.py).
    fairness_rolls: int = Field(default=1_000_000, ge=10_000, le=10_000_000)


class FrontendSettings(stage6.FrontendSettings):
    stage = "stage-7"


class DieServiceSettings(stage6.DieServiceSettings):
    stage = "stage-7"
