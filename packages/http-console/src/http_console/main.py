"""Entry point: `http-console` serves the Shiny page, with /healthz and /metrics beside it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from lab_telemetry import load_settings, serve, setup_telemetry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from http_console.page import create_shiny_app
from http_console.settings import ConsoleSettings

SERVICE_NAME = "http-console"


def create_app(settings: ConsoleSettings) -> Starlette:
    telemetry = setup_telemetry(SERVICE_NAME)
    # One client for every browser session; httpx is instrumented by lab-telemetry, so each
    # request is a client span that carries W3C trace context to the target.
    client = httpx.AsyncClient(follow_redirects=False)
    shiny = create_shiny_app(settings, telemetry, client)

    def metrics(request: Request) -> Response:
        body, content_type = telemetry.metrics.render(request.headers.get("accept", ""))
        return Response(body, media_type=content_type)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    app = Starlette(
        routes=[
            Route("/healthz", lambda _request: JSONResponse({"status": "ok"})),
            Route("/metrics", metrics),
            Mount("/", app=shiny),
        ],
        lifespan=lifespan,
    )
    app.state.telemetry = telemetry
    return app


def main() -> None:
    settings = load_settings(ConsoleSettings, "http-console")
    serve(create_app(settings), settings.host, settings.port)
