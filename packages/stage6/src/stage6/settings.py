"""Stage 6's settings: stage 5's, on stage 6's ports."""

from stage5 import settings as stage5


class DiceRollerSettings(stage5.DiceRollerSettings):
    stage = "stage-6"


class FrontendSettings(stage5.FrontendSettings):
    stage = "stage-6"


class DieServiceSettings(stage5.DieServiceSettings):
    stage = "stage-6"
