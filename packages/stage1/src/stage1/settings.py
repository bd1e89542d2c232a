"""Stage 1's settings, from the environment: DICE_ROLLER_PORT and so on (defaults: the registry)."""

from lab_dice.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class DiceRollerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DICE_ROLLER_")
    stage = "stage-1"
    service = "dice-roller"

    # The risky die's simulated faults: how often it fails, how often it is slow, and how slow.
    risky_failure_rate: float = Field(default=0.1, ge=0, le=1)
    risky_slow_rate: float = Field(default=0.2, ge=0, le=1)
    risky_delay_seconds: float = Field(default=1.0, ge=0, le=30)
