"""The bare dice-roller plus one OpenTelemetry SDK span per request, and nothing else.

The floor of the instrumentation benchmark: the span lab-telemetry's middleware makes (its own
`start_server_span`, attached as the current span while the request runs), sampled, ended, then
dropped (no span processor), with no metrics, no log lines and no export. Whatever this costs,
no instrumentation that makes an SDK span per request can cost less. Port from DICE_ROLLER_PORT.
"""

import os

import uvicorn
from dice_roller.app import create_app
from dice_roller.settings import Settings
from lab_telemetry.middleware import start_server_span
from opentelemetry import context, trace
from opentelemetry.sdk.trace import TracerProvider
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def with_span(app: ASGIApp, tracer: trace.Tracer) -> ASGIApp:
    async def traced(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        method = scope["method"]
        span = start_server_span(tracer, scope)
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        token = context.attach(trace.set_span_in_context(span))
        try:
            await app(scope, receive, send_and_record)
        finally:
            handler = scope["route"].path
            span.update_name(f"{method} {handler}")
            span.set_attributes({"http.response.status_code": status, "http.route": handler})
            context.detach(token)
            span.end()

    return traced


def main() -> None:
    # Not installed as the global provider, so FastAPI's native telemetry stays as in "bare".
    tracer = TracerProvider().get_tracer("sdk-span-only")
    app = with_span(create_app(Settings(telemetry=False)), tracer)
    port = int(os.environ["DICE_ROLLER_PORT"])
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None)


if __name__ == "__main__":
    main()
