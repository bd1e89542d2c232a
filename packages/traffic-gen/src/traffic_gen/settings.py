"""traffic-gen's options: flags first, then TRAFFIC_* variables (and the seed's old names)."""

import math

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class TrafficSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TRAFFIC_", extra="ignore", populate_by_name=True, allow_inf_nan=False
    )

    users: int = Field(
        default=10, ge=1, le=10_000, validation_alias=AliasChoices("TRAFFIC_USERS", "NUM_USERS")
    )
    target: str | None = None
    base_url: str | None = None
    die_service_url: str | None = None
    duration: float | None = Field(default=None, gt=0, le=86_400)
    max_requests_per_user: int | None = Field(
        default=None,
        ge=1,
        validation_alias=AliasChoices("TRAFFIC_MAX_REQUESTS_PER_USER", "MAX_REQUESTS_PER_USER"),
    )
    think_time: str = "0.5-2"
    seed: int | None = None
    timeout: float = Field(default=10.0, gt=0, le=300)
    tracing: bool = True

    @property
    def think_range(self) -> tuple[float, float]:
        low, _, high = self.think_time.partition("-")
        return float(low), float(high)

    @field_validator("think_time")
    @classmethod
    def _min_max_seconds(cls, value: str) -> str:
        low, sep, high = value.partition("-")
        try:
            low_s, high_s = float(low), float(high)
        except ValueError:
            raise ValueError(f"expected MIN-MAX seconds, e.g. 0.5-2, not {value!r}") from None
        if not sep or not (math.isfinite(low_s) and math.isfinite(high_s)) or low_s < 0:
            raise ValueError(f"expected MIN-MAX seconds, e.g. 0.5-2, not {value!r}")
        if low_s > high_s:
            raise ValueError(f"MIN must not exceed MAX in {value!r}")
        return value

    @model_validator(mode="after")
    def _bounded(self) -> "TrafficSettings":
        if self.duration is None and self.max_requests_per_user is None:
            # Every run is bounded: a minute unless told otherwise.
            self.duration = 60.0
        return self
