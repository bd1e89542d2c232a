"""A stage's `stageN-frontend` entry point: start the runtime, then Streamlit serves the page."""

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from lab_dice.settings import FrontendSettings
from lab_telemetry import load_settings

from lab_frontend.runtime import Runtime, start_runtime

S = TypeVar("S", bound=FrontendSettings)

# The runtime the entry point started before Streamlit (None when a test runs the page alone).
started: Runtime | None = None


def serve_page(
    page: Path,
    settings_class: type[S],
    program: str,
    start: Callable[[S], Runtime] = start_runtime,
) -> None:
    global started
    settings = load_settings(settings_class, program)
    # Telemetry and the metrics port from the start, not from the first page view: Prometheus
    # sees the frontend up as soon as it runs, and a busy port is one line now, not a page error.
    try:
        started = start(settings)
    except OSError as exc:
        where = f"{settings.host}:{settings.metrics_port}"
        print(f"{program}: cannot serve metrics on {where}: {exc.strerror}", file=sys.stderr)
        sys.exit(2)
    from streamlit.web import cli

    sys.argv = [
        "streamlit",
        "run",
        str(page),
        f"--server.address={settings.host}",
        f"--server.port={settings.port}",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
        "--client.toolbarMode=minimal",
    ]
    sys.exit(cli.main())
