"""Stage 2's settings: stage 1's dice-roller on stage 2's port, and the frontend."""

from lab_dice.settings import FrontendSettings as BaseFrontendSettings
from lab_dice.settings import Port
from stage1.settings import DiceRollerSettings as Stage1DiceRollerSettings


class DiceRollerSettings(Stage1DiceRollerSettings):
    port: Port = 8201


class FrontendSettings(BaseFrontendSettings):
    port: Port = 8200
    metrics_port: Port = 8209
    dice_roller_url: str = "http://127.0.0.1:8201"
