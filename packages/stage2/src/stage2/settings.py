"""Stage 2's settings: stage 1's dice-roller, and the frontend (defaults: the registry)."""

from lab_dice.settings import FrontendSettings as BaseFrontendSettings
from stage1 import settings as stage1


class DiceRollerSettings(stage1.DiceRollerSettings):
    stage = "stage-2"


class FrontendSettings(BaseFrontendSettings):
    stage = "stage-2"
