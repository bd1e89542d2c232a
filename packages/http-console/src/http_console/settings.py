"""http-console settings, from HTTP_CONSOLE_* environment variables."""

from functools import cache
from typing import Annotated

import lab_stages
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# The stack's APIs a learner queries: on the host and, by container name, in the compose network.
STACK_APIS = {"prometheus": 9090, "loki": 3100, "tempo": 3200}
LOOPBACK_NAMES = ("127.0.0.1", "localhost")
ANY_TARGET = "*"


@cache
def lab_targets() -> frozenset[str]:
    """host:port of the lab's own APIs: every stage's and demo app's (lab_stages) and the stack's,
    on the host (127.0.0.1 and localhost) and in the compose network (container names)."""
    apis = [
        service for app in lab_stages.apps() for service in app.services if service.kind == "api"
    ]
    host_ports = [*(api.port for api in apis if api.port), *STACK_APIS.values()]
    return frozenset(
        (
            *(f"{host}:{port}" for host in LOOPBACK_NAMES for port in host_ports),
            *(f"{api.container}:{api.container_port}" for api in apis),
            *(f"{name}:{port}" for name, port in STACK_APIS.items()),
        )
    )


def _comma_separated(value: object) -> object:
    if isinstance(value, str):
        return [item.strip().lower() for item in value.split(",") if item.strip()]
    return value


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HTTP_CONSOLE_", extra="ignore")

    # It makes requests for whoever can open the page: loopback unless told otherwise.
    host: str = "127.0.0.1"
    port: int = Field(default=8002, ge=1, le=65535)
    # Targets beyond the lab's own (lab_targets()) it may call: host:port, comma-separated;
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
        return lab_targets() | frozenset(self.allowed_hosts)

    @property
    def origins(self) -> frozenset[str]:
        default = (f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}")
        return frozenset(origin.rstrip("/") for origin in self.public_origins or default)
