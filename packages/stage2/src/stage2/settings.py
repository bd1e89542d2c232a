"""Stage 2's settings: stage 1's dice-roller on stage 2's port, and the frontend."""

from lab_dice.settings import FrontendSettings as BaseFrontendSettings
from lab_dice.settings import Port, registered
from stage1.settings import DiceRollerSettings as Stage1DiceRollerSettings


class DiceRollerSettings(Stage1DiceRollerSettings):
    port: Port = registered("stage-2", "dice-roller")


class FrontendSettings(BaseFrontendSettings):
    port: Port = registered("stage-2", "frontend")
    metrics_port: Port = registered("stage-2", "frontend", "metrics_port")
    dice_roller_url: str = registered("stage-2", "dice-roller", "url")
