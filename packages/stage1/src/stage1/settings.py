"""Stage settings, one class per service, from the environment."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DiceRollerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DICE_ROLLER_", extra="ignore")

    # Loopback by default; the container sets DICE_ROLLER_HOST=0.0.0.0.
    host: str = "127.0.0.1"
    port: int = Field(default=8100, ge=1, le=65535)
    # The risky die's simulated faults: how often it fails, how often it is slow, and how slow.
    risky_failure_rate: float = Field(default=0.1, ge=0, le=1)
    risky_slow_rate: float = Field(default=0.2, ge=0, le=1)
    risky_delay_seconds: float = Field(default=1.0, ge=0, le=30)
