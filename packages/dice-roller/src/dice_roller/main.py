"""Entry point: `dice-roller` runs the API with uvicorn."""

from lab_telemetry import load_settings, serve

from dice_roller.app import create_app
from dice_roller.settings import Settings


def main() -> None:
    settings = load_settings(Settings, "dice-roller")
    serve(create_app(settings), settings.host, settings.port)
