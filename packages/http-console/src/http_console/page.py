"""The Shiny page: describe a request, send it, read the response, re-send from history."""

import logging
from dataclasses import replace

import httpx
from lab_telemetry import Telemetry, explore_url, log_usage
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.util.http import redact_url
from shiny import App, Inputs, Outputs, Session, reactive, render, ui

from http_console.requests import (
    BODY_MODES,
    METHODS,
    RequestError,
    RequestSpec,
    ResponseView,
    build,
    send,
)
from http_console.settings import ANY_TARGET, ConsoleSettings

logger = logging.getLogger("http_console")
MAX_ROWS = 20


def rows_ui(prefix: str, count: int, current: dict[str, str], placeholder: tuple[str, str]):
    return [
        ui.layout_columns(
            ui.input_text(
                f"{prefix}_name_{i}",
                None,
                current.get(f"{prefix}_name_{i}", ""),
                placeholder=placeholder[0],
            ),
            ui.input_text(
                f"{prefix}_value_{i}",
                None,
                current.get(f"{prefix}_value_{i}", ""),
                placeholder=placeholder[1],
            ),
            col_widths=(5, 7),
        )
        for i in range(count)
    ]


def page_ui(settings: ConsoleSettings) -> ui.Tag:
    if ANY_TARGET in settings.targets:
        allowed = "any host"
    else:
        allowed = "the lab's services" + "".join(f", {t}" for t in settings.allowed_hosts)
    return ui.page_fluid(
        ui.h2("HTTP console"),
        ui.p(f"Requests go out from this server (allowed: {allowed}). Each Send is traced."),
        ui.layout_columns(
            ui.card(
                ui.card_header("Request"),
                ui.layout_columns(
                    ui.input_select("method", "Method", list(METHODS), selected="GET"),
                    ui.input_text("url", "URL", settings.default_url, width="100%"),
                    col_widths=(3, 9),
                ),
                ui.h6("Query parameters"),
                ui.output_ui("query_rows"),
                ui.div(
                    ui.input_action_button("add_query", "Add parameter", class_="btn-sm"),
                    ui.input_action_button("remove_query", "Remove last", class_="btn-sm"),
                ),
                ui.h6("Headers"),
                ui.output_ui("header_rows"),
                ui.div(
                    ui.input_action_button("add_header", "Add header", class_="btn-sm"),
                    ui.input_action_button("remove_header", "Remove last", class_="btn-sm"),
                ),
                ui.input_radio_buttons(
                    "body_mode", "Body", {m: m for m in BODY_MODES}, selected="none", inline=True
                ),
                ui.input_text_area(
                    "body",
                    None,
                    "",
                    rows=5,
                    width="100%",
                    placeholder='{"name": "d8", "faces": [1, 2, 3]}',
                ),
                ui.input_numeric(
                    "timeout",
                    "Timeout (s)",
                    settings.default_timeout_seconds,
                    min=0.1,
                    max=300,
                    step=0.5,
                ),
                ui.input_action_button("send", "Send", class_="btn-primary"),
                ui.hr(),
                ui.input_select("history", "This session's requests", []),
                ui.input_action_button("resend", "Re-send", class_="btn-sm"),
            ),
            ui.card(ui.card_header("Response"), ui.output_ui("response")),
            col_widths=(6, 6),
        ),
        title="HTTP console",
    )


def server_for(settings: ConsoleSettings, telemetry: Telemetry, client: httpx.AsyncClient):
    sends = telemetry.metrics.counter(
        "http_console_sends_total",
        "Requests sent from the page, by method and outcome.",
        ("method", "outcome"),
    )

    def server(input: Inputs, output: Outputs, session: Session) -> None:
        query_count = reactive.value(1)
        header_count = reactive.value(1)
        history: reactive.Value[list[RequestSpec]] = reactive.value([])
        result: reactive.Value[tuple[ResponseView | None, str | None, str]] = reactive.value(
            (None, None, "")
        )

        def current(prefix: str, count: int) -> dict[str, str]:
            values = {}
            for i in range(count):
                for part in ("name", "value"):
                    key = f"{prefix}_{part}_{i}"
                    if key in input:
                        values[key] = input[key]()
            return values

        def rows(prefix: str, count: int) -> list[tuple[str, str]]:
            values = current(prefix, count)
            return [
                (values.get(f"{prefix}_name_{i}", ""), values.get(f"{prefix}_value_{i}", ""))
                for i in range(count)
            ]

        @render.ui
        def query_rows():
            count = query_count()
            with reactive.isolate():
                return rows_ui("query", count, current("query", MAX_ROWS), ("name", "value"))

        @render.ui
        def header_rows():
            count = header_count()
            with reactive.isolate():
                return rows_ui(
                    "header", count, current("header", MAX_ROWS), ("X-Request-Id", "value")
                )

        def row_button(button: str, counter: reactive.Value[int], step: int) -> None:
            @reactive.effect
            @reactive.event(input[button])
            def _change() -> None:
                counter.set(max(0, min(MAX_ROWS, counter() + step)))

        row_button("add_query", query_count, 1)
        row_button("remove_query", query_count, -1)
        row_button("add_header", header_count, 1)
        row_button("remove_header", header_count, -1)

        async def run(spec: RequestSpec) -> None:
            # Credentials typed into the URL (user:password@) never reach a span or a log line.
            url = redact_url(spec.url)
            # Each Send starts a trace of its own: Shiny traces its reactive updates too, and
            # under one of those a Send would be one span deep in Shiny's trace.
            with telemetry.tracer.start_as_current_span(
                "send",
                context=Context(),
                attributes={"http.request.method": spec.method, "url.full": url},
            ) as span:
                trace_id = trace.format_trace_id(span.get_span_context().trace_id)
                fields = {"session_id": session.id, "method": spec.method, "url": url}
                try:
                    prepared = build(spec, settings.targets)
                    view = await send(client, prepared, settings.max_body_bytes)
                except RequestError as exc:
                    span.set_status(trace.StatusCode.ERROR, str(exc))
                    logger.error("send failed: %s", exc, extra=fields)
                    sends.labels(spec.method, "failed").inc()
                    result.set((None, str(exc), trace_id))
                    return
                span.set_attribute("http.response.status_code", view.status)
                fields |= {"status": view.status, "elapsed_ms": round(view.elapsed_ms, 1)}
                level = (
                    logging.ERROR
                    if view.status >= 500
                    else (logging.WARNING if view.status >= 400 else logging.INFO)
                )
                if view.status >= 500:
                    span.set_status(trace.StatusCode.ERROR, f"HTTP {view.status}")
                logger.log(level, "sent %s %s: %s", spec.method, url, view.status, extra=fields)
                log_usage("send", method=spec.method, status=view.status)
                sends.labels(spec.method, f"{view.status // 100}xx").inc()
                result.set((view, None, trace_id))
            history.set([spec, *history()][:50])
            labels = {str(i): s.label for i, s in enumerate(history())}
            ui.update_select("history", choices=labels, selected="0")

        @reactive.effect
        @reactive.event(input.send)
        async def _send() -> None:
            spec = RequestSpec(
                method=input.method(),
                url=input.url(),
                query=rows("query", query_count()),
                headers=rows("header", header_count()),
                body_mode=input.body_mode(),
                body=input.body(),
                timeout=float(input.timeout() or settings.default_timeout_seconds),
            )
            logger.info(
                "send %s %s", spec.method, redact_url(spec.url), extra={"session_id": session.id}
            )
            await run(spec)

        @reactive.effect
        @reactive.event(input.resend)
        async def _resend() -> None:
            chosen = input.history()
            if chosen:
                await run(replace(history()[int(chosen)]))

        @render.ui
        def response():
            view, error, trace_id = result()
            link = (
                ui.a(
                    "Open this request's trace in Grafana",
                    href=explore_url(settings.grafana_url, trace_id),
                    target="_blank",
                    id="trace-link",
                )
                if trace_id
                else ""
            )
            if error:
                return ui.div(ui.div(error, class_="alert alert-danger", id="error"), link)
            if view is None:
                return ui.p("Send a request to see its response here.")
            return ui.div(
                ui.h4(f"{view.status} {view.reason}", id="status"),
                ui.p(f"{view.elapsed_ms:.0f} ms, {view.size:,} bytes"),
                link,
                ui.h6("Headers"),
                ui.tags.table(
                    *[ui.tags.tr(ui.tags.td(k), ui.tags.td(v)) for k, v in view.headers],
                    class_="table table-sm",
                    id="response-headers",
                ),
                ui.h6(f"Body ({view.body_kind})"),
                ui.div(view.note, class_="alert alert-warning") if view.note else "",
                ui.tags.pre(view.body, id="response-body"),
            )

    return server


def create_shiny_app(
    settings: ConsoleSettings, telemetry: Telemetry, client: httpx.AsyncClient
) -> App:
    return App(page_ui(settings), server_for(settings, telemetry, client))
