"""http-console settings, from HTTP_CONSOLE_* environment variables."""

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Where the lab's own APIs listen: on the host (127.0.0.1 and localhost, the ports in README's URL
# table) and inside the compose network (container names, port 8000; the backends' own ports).
LAB_PORTS_ON_THE_HOST = (
    8001,
    8100,
    8201,
    8301,
    8302,
    8401,
    8402,
    8501,
    8502,
    8601,
    8602,
    9090,
    3100,
    3200,
)
LAB_CONTAINERS = (
    "demo-dice-roller",
    *(f"stage{n}-dice-roller" for n in range(1, 7)),
    *(f"stage{n}-die-service" for n in range(3, 7)),
)
LAB_TARGETS = (
    *(f"{host}:{port}" for host in ("127.0.0.1", "localhost") for port in LAB_PORTS_ON_THE_HOST),
    *(f"{name}:8000" for name in LAB_CONTAINERS),
    "prometheus:9090",
    "loki:3100",
    "tempo:3200",
)
ANY_TARGET = "*"


def _comma_separated(value: object) -> object:
    if isinstance(value, str):
        return [item.strip().lower() for item in value.split(",") if item.strip()]
    return value


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HTTP_CONSOLE_", extra="ignore")

    # It makes requests for whoever can open the page: loopback unless told otherwise.
    host: str = "127.0.0.1"
    port: int = Field(default=8002, ge=1, le=65535)
    # Targets beyond the lab's own (LAB_TARGETS) it may call: host:port, comma-separated;
    # "*" allows any, and only when said.
    allowed_hosts: Annotated[list[str], NoDecode] = []
    # Where browsers open the page (scheme://host:port): only pages from these may drive it
    # (websocket Origin) and only these host names may be asked for (Host, DNS rebinding).
    # Empty: http://127.0.0.1:PORT and http://localhost:PORT.
    public_origins: Annotated[list[str], NoDecode] = []
    # Response bodies past this many bytes are cut, with a note.
    max_body_bytes: int = Field(default=200_000, ge=1_000, le=50_000_000)
    # What the URL field holds when the page opens.
    default_url: str = "http://127.0.0.1:8001/roll/3d6"
    default_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    grafana_url: str = "http://127.0.0.1:3000"

    @field_validator("allowed_hosts", "public_origins", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        return _comma_separated(value)

    @field_validator("allowed_hosts")
    @classmethod
    def _host_and_port(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            host, _, port = entry.rpartition(":")
            if entry != ANY_TARGET and not (host and port.isdigit() and 0 < int(port) < 65536):
                raise ValueError(f"{entry!r} is not host:port (or {ANY_TARGET} for any target)")
        return entries

    @property
    def targets(self) -> frozenset[str]:
        """Every host:port it may call; contains "*" when any is allowed."""
        return frozenset((*LAB_TARGETS, *self.allowed_hosts))

    @property
    def origins(self) -> frozenset[str]:
        default = (f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}")
        return frozenset(origin.rstrip("/") for origin in self.public_origins or default)
