"""Entry point: `stage6-frontend` serves the Streamlit page."""

import sys
from pathlib import Path

from lab_telemetry import load_settings

from stage6 import frontend_runtime
from stage6.settings import FrontendSettings


def main() -> None:
    settings = load_settings(FrontendSettings, "stage6-frontend")
    # Telemetry and the metrics port from the start, not from the first page view: Prometheus
    # sees the frontend up as soon as it runs, and a busy port is one line now, not a page error.
    try:
        frontend_runtime.started = frontend_runtime.start_runtime(settings)
    except OSError as exc:
        where = f"{settings.host}:{settings.metrics_port}"
        print(f"stage6-frontend: cannot serve metrics on {where}: {exc.strerror}", file=sys.stderr)
        sys.exit(2)
    from streamlit.web import cli

    page = Path(__file__).with_name("page.py")
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
