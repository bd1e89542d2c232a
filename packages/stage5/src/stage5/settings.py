"""Stage 5's settings: stage 4's; the die-service's dice are in PostgreSQL."""

from lab_dice.settings import Seconds
from pydantic import Field
from stage4 import settings as stage4


class DiceRollerSettings(stage4.DiceRollerSettings):
    stage = "stage-5"


class FrontendSettings(stage4.FrontendSettings):
    stage = "stage-5"


class DieServiceSettings(stage4.DieServiceSettings):
    stage = "stage-5"

    # postgresql://USER:PASSWORD@HOST:PORT/DATABASE; no default: credentials come from outside.
    database_url: str
    # dice_file now seeds an empty database.
    database_timeout_seconds: Seconds = 3.0
    # POST /dice answers 409 once this many dice are stored.
    max_dice: int = Field(default=200, ge=1, le=100_000)
