"""The screenshots in docs/images/, of the pages as they run here: `uv run nox -s screenshots`.

Starts stage 4 (die-service, dice-roller, Streamlit frontend) and the http-console with the
dice-roller demo as real processes on loopback ports, without the stack (spans are made, so the
pages show real trace ids, but not exported), clicks each page once in headless Chromium
(tests/support/browser.py: Debian's, never a downloaded one), saves a 256-colour PNG of it, and
stops every process it started.
"""

import io
import socket
import sys
import tempfile
from pathlib import Path

import lab_stages
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python tools/screenshots.py` as well as `python -m`
    sys.path.insert(0, str(ROOT))

from tests.support.browser import browser_page  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from tests.support.processes import Services  # noqa: E402

IMAGES = ROOT / "docs" / "images"
VIEWPORT = {"width": 1100, "height": 1250}
# No collector: spans are made (the page shows a real trace id) but not exported.
QUIET = {"OTEL_EXPORTER_OTLP_ENDPOINT": ""}


def usual_port(port: int) -> int:
    """The port the docs use (so the picture shows it) when it is free here, else a free one."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return free_port()
    return port


def save(png: bytes, name: str) -> Path:
    """The screenshot in 256 colours (a UI has few): a fraction of Chromium's PNG."""
    path = IMAGES / name
    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path


def stage4_frontend(services: Services, page) -> bytes:
    stage = lab_stages.app("stage-4")
    die_port, roller_port, port = free_port(), free_port(), free_port()
    die = services.start(
        "stage4-die-service", {**QUIET, "DIE_SERVICE_PORT": str(die_port)}, die_port
    )
    roller = services.start(
        "stage4-dice-roller",
        {
            **QUIET,
            "DICE_ROLLER_PORT": str(roller_port),
            "DICE_ROLLER_DIE_SERVICE_URL": die.base_url,
        },
        roller_port,
    )
    services.start(
        "stage4-frontend",
        {
            **QUIET,
            "FRONTEND_PORT": str(port),
            "FRONTEND_METRICS_PORT": str(free_port()),
            "FRONTEND_DICE_ROLLER_URL": roller.base_url,
            "FRONTEND_DIE_SERVICE_URL": die.base_url,
            # What the page names: the stage's usual URLs, as in compose.
            "FRONTEND_DICE_ROLLER_PUBLIC_URL": stage.service("dice-roller").url,
            "FRONTEND_DIE_SERVICE_PUBLIC_URL": stage.service("die-service").url,
        },
        port,
        ready_path="/_stcore/health",
    )
    page.goto(f"http://127.0.0.1:{port}")
    page.get_by_text("d20").click()
    page.get_by_label("How many dice at once").fill("30")
    page.get_by_label("How many dice at once").press("Enter")
    page.get_by_role("button", name="Roll 30 times").click()
    page.get_by_text("30 d20 dice rolled, in total").wait_for()
    page.locator("[data-testid='stVegaLiteChart'], .vega-embed").first.wait_for()
    page.get_by_role("cell", name="30", exact=True).first.wait_for()
    page.wait_for_load_state("networkidle")
    return page.screenshot()


def http_console(services: Services, page) -> bytes:
    roller_port, port = usual_port(8001), free_port()  # 8001: the dice-roller demo's
    roller = services.start(
        "dice-roller", {**QUIET, "DICE_ROLLER_PORT": str(roller_port)}, roller_port
    )
    services.start(
        "http-console",
        {
            **QUIET,
            "HTTP_CONSOLE_PORT": str(port),
            "HTTP_CONSOLE_ALLOWED_HOSTS": f"127.0.0.1:{roller_port}",
        },
        port,
    )
    page.goto(f"http://127.0.0.1:{port}")
    page.locator("#method").select_option("GET")
    page.locator("#url").fill(f"{roller.base_url}/roll/4d6")
    page.locator("#send").click()
    page.locator("#status").get_by_text("200 OK").wait_for()
    page.locator("#response-body").get_by_text('"total"').wait_for()
    return page.screenshot(full_page=True)


SHOTS = {"stage-4-frontend.png": stage4_frontend, "http-console.png": http_console}


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lab-screenshots-") as directory:
        for name, shoot in SHOTS.items():
            services = Services(Path(directory))
            try:
                with browser_page() as page:
                    page.set_viewport_size(VIEWPORT)
                    path = save(shoot(services, page), name)
            finally:
                services.stop_all()
            print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
