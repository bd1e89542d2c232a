"""Stage 1's settings, from the environment: DICE_ROLLER_PORT=8100 and so on."""

from lab_dice.settings import Port, ServiceSettings, registered
from pydantic import Field
from pydantic_settings import SettingsConfigDict


class DiceRollerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DICE_ROLLER_")

    port: Port = registered("stage-1", "dice-roller")
    # The risky die's simulated faults: how often it fails, how often it is slow, and how slow.
    risky_failure_rate: float = Field(default=0.1, ge=0, le=1)
    risky_slow_rate: float = Field(default=0.2, ge=0, le=1)
    risky_delay_seconds: float = Field(default=1.0, ge=0, le=30)
