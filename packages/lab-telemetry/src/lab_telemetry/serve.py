"""What every app's entry point does: read its settings, serve with uvicorn, flush on exit.

pydantic-settings and uvicorn do the work; this adds what a learner's terminal needs from them:
a bad setting or a busy port as one line instead of a traceback, and SIGTERM/Ctrl-C as a normal
exit that still exports the spans queued.
"""

import os
import signal
import socket
import sys
from pathlib import Path
from types import FrameType
from typing import TypeVar

from opentelemetry import trace
from pydantic import ValidationError
from pydantic_settings import BaseSettings
from starlette.applications import Starlette

S = TypeVar("S", bound=BaseSettings)


def load_settings(settings_class: type[S], program: str) -> S:
    """The settings from the environment, or one line on stderr and exit status 2.

    The line names the environment variable, e.g. `invalid setting DICE_ROLLER_PORT: ...`.
    """
    try:
        return settings_class()
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        variable = (str(settings_class.model_config.get("env_prefix", "")) + field).upper()
        print(f"{program}: invalid setting {variable}: {error['msg']}", file=sys.stderr)
        sys.exit(2)


def listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound here so that a busy port or a bad address is one line on
    stderr and exit status 2 (uvicorn would log it as several lines, then exit 1)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        program = Path(sys.argv[0]).name
        print(f"{program}: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        sys.exit(2)
    return sock


def _exit_on_signal(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def serve(app: Starlette, host: str, port: int) -> None:
    """Run `app` with uvicorn until Ctrl-C or SIGTERM, then export the spans still queued.

    uvicorn shuts down gracefully on either signal and then raises it again. SIGTERM's default
    action would kill the process there (unless it is a container's PID 1), losing the queued
    spans and buffered log lines; Ctrl-C would end in a traceback. These handlers make both a
    normal exit (status 143 or 130) wherever the process runs.
    """
    import uvicorn

    sock = listening_socket(host, port)
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, _exit_on_signal)
    try:
        # log_config=None leaves logging to lab-telemetry, so uvicorn's lines are JSON too.
        # UVICORN_ACCESS_LOG=false (the variable uvicorn's own CLI reads) drops the access line:
        # one log line fewer per request (benchmarks/README.md measures it).
        access_log = os.environ.get("UVICORN_ACCESS_LOG", "true").lower() != "false"
        config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=access_log)
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        # Export the spans still queued, whoever made the provider (lab-telemetry or the
        # opentelemetry-instrument launcher); a no-op provider has nothing to flush.
        provider = trace.get_tracer_provider()
        if hasattr(provider, "shutdown"):
            provider.shutdown()
