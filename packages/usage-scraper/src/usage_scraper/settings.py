"""usage-scraper settings, from the environment (the names the seed used are kept)."""

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def env(name: str) -> AliasChoices:
    return AliasChoices(name, f"USAGE_SCRAPER_{name}")


class ScraperSettings(BaseSettings):
    # No Infinity or NaN anywhere: LOOKBACK_MINUTES=inf would stop the copy at its first poll.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, allow_inf_nan=False)

    host: str = Field(default="127.0.0.1", validation_alias="USAGE_SCRAPER_HOST")
    port: int = Field(default=8010, ge=1, le=65535, validation_alias="USAGE_SCRAPER_PORT")
    loki_url: str = Field(default="http://127.0.0.1:3100", validation_alias=env("LOKI_URL"))
    # postgresql://USER:PASSWORD@HOST:PORT/usage_stats; no default: credentials come from outside.
    database_url: str = Field(validation_alias=env("DATABASE_URL"))
    query: str = Field(default='{usage="true"}', validation_alias=env("QUERY"))
    poll_interval_seconds: float = Field(
        default=60, gt=0, le=3600, validation_alias=env("POLL_INTERVAL_SECONDS")
    )
    # Where to start when no position is saved yet.
    lookback_minutes: float = Field(
        default=2, ge=0, le=60 * 24 * 31, validation_alias=env("LOOKBACK_MINUTES")
    )
    # Read only up to now minus this, so lines that reach Loki late are not skipped.
    safety_lag_seconds: float = Field(
        default=30, ge=0, le=3600, validation_alias=env("SAFETY_LAG_SECONDS")
    )
    # Entries per query_range page; Loki caps it at max_entries_limit_per_query (5,000).
    batch_size: int = Field(default=5000, ge=1, le=5000, validation_alias=env("BATCH_SIZE"))
    request_timeout_seconds: float = Field(
        default=30, gt=0, le=600, validation_alias=env("REQUEST_TIMEOUT_SECONDS")
    )
    max_backoff_seconds: float = Field(
        default=60, gt=0, le=3600, validation_alias=env("MAX_BACKOFF_SECONDS")
    )
    # /healthz answers 503 after this many failed polls in a row (and while they go on).
    unhealthy_after_failed_polls: int = Field(
        default=3, ge=1, le=1000, validation_alias=env("UNHEALTHY_AFTER_FAILED_POLLS")
    )
