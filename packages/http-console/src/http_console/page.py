"""The Shiny page: describe a request, send it, read the response, re-send from history.

page_ui lays the page out; a ConsoleSession per browser session reads the request from the
inputs, hands it to the app's TracedSender (traced_sends.py) and shows the outcome and history.
"""

import logging
from collections.abc import Callable

import httpx
from lab_telemetry import Telemetry, explore_url
from opentelemetry.util.http import redact_url
from shiny import App, Inputs, Outputs, Session, reactive, render, ui

from http_console.requests import BODY_MODES, METHODS, RequestSpec
from http_console.settings import ANY_TARGET, ConsoleSettings
from http_console.traced_sends import Outcome, TracedSender

logger = logging.getLogger("http_console")
MAX_ROWS = 20
HISTORY_LENGTH = 50


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


def entered_values(input: Inputs, prefix: str, count: int) -> dict[str, str]:
    """What the first `count` rows of an editor hold, by input id (rows not on the page: absent)."""
    values = {}
    for i in range(count):
        for part in ("name", "value"):
            key = f"{prefix}_{part}_{i}"
            if key in input:
                values[key] = input[key]()
    return values


def entered_rows(input: Inputs, prefix: str, count: int) -> list[tuple[str, str]]:
    """The editor's rows as (name, value) pairs; build() skips the ones without a name."""
    values = entered_values(input, prefix, count)
    return [
        (values.get(f"{prefix}_name_{i}", ""), values.get(f"{prefix}_value_{i}", ""))
        for i in range(count)
    ]


def request_from_inputs(
    input: Inputs, query_rows: int, header_rows: int, default_timeout: float
) -> RequestSpec:
    """The request as the page describes it; checking it is build()'s job."""
    return RequestSpec(
        method=input.method(),
        url=input.url(),
        query=entered_rows(input, "query", query_rows),
        headers=entered_rows(input, "header", header_rows),
        body_mode=input.body_mode(),
        body=input.body(),
        timeout=float(input.timeout() or default_timeout),
    )


def trace_link(grafana_url: str, trace_id: str) -> ui.Tag | str:
    if not trace_id:
        return ""
    return ui.a(
        "Open this request's trace in Grafana",
        href=explore_url(grafana_url, trace_id),
        target="_blank",
        id="trace-link",
    )


def response_ui(outcome: Outcome, grafana_url: str) -> ui.Tag:
    """The Response card's content: the error, or the status, headers and body."""
    link = trace_link(grafana_url, outcome.trace_id)
    if outcome.error:
        return ui.div(ui.div(outcome.error, class_="alert alert-danger", id="error"), link)
    view = outcome.view
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


def history_choices(history: list[RequestSpec]) -> dict[str, str]:
    """The history select's choices: its position in the history, and the request's label."""
    return {str(i): spec.label for i, spec in enumerate(history)}


class ConsoleSession:
    """One browser session: its row editors, last outcome and history, and what each button does.

    Made inside Shiny's server function, so the outputs and effects it defines are the session's.
    """

    def __init__(
        self,
        input: Inputs,
        output: Outputs,
        session: Session,
        settings: ConsoleSettings,
        sender: TracedSender,
    ) -> None:
        self.input = input
        self.output = output
        self.session_id = session.id
        self.settings = settings
        self.sender = sender
        self.outcome = reactive.value(Outcome())
        self.history: reactive.Value[list[RequestSpec]] = reactive.value([])
        self.query_rows = self.row_editor("query", placeholder=("name", "value"))
        self.header_rows = self.row_editor("header", placeholder=("X-Request-Id", "value"))
        self.wire_send_buttons()
        self.wire_response()

    def row_editor(self, prefix: str, placeholder: tuple[str, str]) -> reactive.Value[int]:
        """The `{prefix}_rows` output with its Add and Remove last buttons; holds the row count."""
        count = reactive.value(1)

        @self.output(id=f"{prefix}_rows")
        @render.ui
        def _rows():
            shown = count()
            # Redrawn when the count changes, keeping what was typed; typing alone redraws nothing.
            with reactive.isolate():
                typed = entered_values(self.input, prefix, MAX_ROWS)
                return rows_ui(prefix, shown, typed, placeholder)

        self.on_click(f"add_{prefix}", lambda: count.set(min(MAX_ROWS, count() + 1)))
        self.on_click(f"remove_{prefix}", lambda: count.set(max(0, count() - 1)))
        return count

    def on_click(self, button: str, action: Callable[[], object]) -> None:
        @reactive.effect
        @reactive.event(self.input[button])
        def _clicked() -> None:
            action()

    def wire_send_buttons(self) -> None:
        @reactive.effect
        @reactive.event(self.input.send)
        async def _send() -> None:
            spec = request_from_inputs(
                self.input,
                self.query_rows(),
                self.header_rows(),
                self.settings.default_timeout_seconds,
            )
            logger.info(
                "send %s %s",
                spec.method,
                redact_url(spec.url),
                extra={"session_id": self.session_id},
            )
            await self.send(spec)

        @reactive.effect
        @reactive.event(self.input.resend)
        async def _resend() -> None:
            chosen = self.input.history()
            if chosen:
                await self.send(self.history()[int(chosen)])

    async def send(self, spec: RequestSpec) -> None:
        outcome = await self.sender.send(spec, self.session_id)
        self.outcome.set(outcome)
        # Only requests that got an answer join the history.
        if outcome.view is not None:
            self.remember(spec)

    def remember(self, spec: RequestSpec) -> None:
        self.history.set([spec, *self.history()][:HISTORY_LENGTH])
        ui.update_select("history", choices=history_choices(self.history()), selected="0")

    def wire_response(self) -> None:
        @self.output(id="response")
        @render.ui
        def _response():
            return response_ui(self.outcome(), self.settings.grafana_url)


def server_for(settings: ConsoleSettings, telemetry: Telemetry, client: httpx.AsyncClient):
    """Shiny's server function: one ConsoleSession per browser session, one sender for all."""
    sender = TracedSender(settings, telemetry, client)

    def server(input: Inputs, output: Outputs, session: Session) -> None:
        ConsoleSession(input, output, session, settings, sender)

    return server


def create_shiny_app(
    settings: ConsoleSettings, telemetry: Telemetry, client: httpx.AsyncClient
) -> App:
    return App(page_ui(settings), server_for(settings, telemetry, client))
