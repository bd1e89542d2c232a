"""Entry point: `usage-scraper` copies usage events and serves /metrics and /healthz."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from lab_telemetry import instrument_app, load_settings, serve, setup_telemetry

from usage_scraper.scraper import Scraper, ScraperMetrics
from usage_scraper.settings import ScraperSettings
from usage_scraper.store import Store

SERVICE_NAME = "usage-scraper"


def create_app(settings: ScraperSettings) -> FastAPI:
    scraper: Scraper | None = None

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        nonlocal scraper
        store = Store(settings.database_url)
        async with httpx.AsyncClient(
            base_url=settings.loki_url, timeout=settings.request_timeout_seconds
        ) as loki:
            scraper = Scraper(settings, store, loki, metrics, tracer=telemetry.tracer)
            task = asyncio.create_task(scraper.run_forever(), name="scraper")
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await store.close()

    def health() -> str | None:
        """503 on /healthz while the copy is failing or has stopped: compose and Docker see it."""
        return scraper.health() if scraper else "starting"

    telemetry = setup_telemetry(SERVICE_NAME)
    # FastAPI traces every request itself: server span and operation spans.
    app = FastAPI(title="usage-scraper", lifespan=lifespan, telemetry=telemetry.fastapi)
    instrument_app(app, telemetry.metrics, health=health)
    metrics = ScraperMetrics(telemetry.metrics)
    return app


def main() -> None:
    settings = load_settings(ScraperSettings, "usage-scraper")
    serve(create_app(settings), settings.host, settings.port)
