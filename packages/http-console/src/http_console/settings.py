"""http-console settings, from HTTP_CONSOLE_* environment variables."""

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HTTP_CONSOLE_", extra="ignore")

    # It makes requests for whoever can open the page: loopback unless told otherwise.
    host: str = "127.0.0.1"
    port: int = 8002
    # Target hosts it may call, comma-separated (e.g. "127.0.0.1,dice-roller"); empty: any.
    allowed_hosts: Annotated[list[str], NoDecode] = []
    # Response bodies past this many bytes are cut, with a note.
    max_body_bytes: int = Field(default=200_000, ge=1_000, le=50_000_000)
    # What the URL field holds when the page opens.
    default_url: str = "http://127.0.0.1:8001/roll/3d6"
    default_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    grafana_url: str = "http://127.0.0.1:3000"

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [host.strip().lower() for host in value.split(",") if host.strip()]
        return value
