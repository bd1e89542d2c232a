"""Entry point: `http-console` serves the Shiny page, with /healthz and /metrics beside it."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from lab_telemetry import load_settings, serve, setup_telemetry
from starlette.applications import Starlette
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from http_console.page import create_shiny_app
from http_console.settings import ConsoleSettings

SERVICE_NAME = "http-console"
logger = logging.getLogger("http_console")


def pages_from(origins: frozenset[str], app: ASGIApp) -> ASGIApp:
    """`app`, driven only from pages of `origins`: Host and websocket Origin both checked.

    The console makes requests for whoever drives its page. Shiny takes every action over one
    websocket, which browsers open from any page with that page's Origin; and a DNS-rebound
    name reaches it with a foreign Host. Starlette's TrustedHostMiddleware answers a foreign
    Host with 400; Starlette has nothing for a websocket's Origin (CORS does not apply to
    websockets), so that check is the small wrapper below.
    """
    hosts = sorted({origin.split("://", 1)[1].rsplit(":", 1)[0] for origin in origins})
    trusted = TrustedHostMiddleware(app, allowed_hosts=hosts)

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            origin = dict(scope["headers"]).get(b"origin", b"").decode("latin-1").rstrip("/")
            if origin and origin not in origins:
                logger.warning(
                    "refused a websocket from a page at %s", origin, extra={"origin": origin}
                )
                await WebSocket(scope, receive, send).close(code=1008)  # policy violation
                return
        await trusted(scope, receive, send)

    return guarded


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
            Mount("/", app=pages_from(settings.origins, shiny)),
        ],
        lifespan=lifespan,
    )
    return app


def main() -> None:
    settings = load_settings(ConsoleSettings, "http-console")
    serve(create_app(settings), settings.host, settings.port)
