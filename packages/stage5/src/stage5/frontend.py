"""Entry point: `stage5-frontend` serves the Streamlit page."""

import sys
from pathlib import Path

from lab_telemetry import load_settings

from stage5.settings import FrontendSettings


def main() -> None:
    settings = load_settings(FrontendSettings, "stage5-frontend")
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
