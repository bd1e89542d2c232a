"""http-console in headless Chromium: real sends to a real dice-roller and an echo server."""

import json

import pytest
from lab_telemetry.testing import OtlpReceiver, poll_until

from tests.support.echo import EchoServer
from tests.support.ports import free_port


@pytest.fixture
def echo():
    server = EchoServer()
    yield server
    server.stop()


@pytest.fixture
def console(start_service, otlp_receiver: OtlpReceiver):
    def start(**env: str):
        port = free_port()
        return start_service(
            "http-console",
            {
                "HTTP_CONSOLE_PORT": str(port),
                "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
                "OTEL_BSP_SCHEDULE_DELAY": "100",
                **env,
            },
            port,
        )

    return start


@pytest.fixture
def dice_roller(start_dice_roller):
    return start_dice_roller()


def target(url: str) -> str:
    """host:port of a URL, as HTTP_CONSOLE_ALLOWED_HOSTS takes it."""
    return url.split("://", 1)[1].split("/", 1)[0]


def send(page, method: str, url: str) -> None:
    page.locator("#method").select_option(method)
    page.locator("#url").fill(url)
    page.locator("#send").click()


def test_get_to_a_dice_roller_shows_200_and_the_rolls_in_one_trace(
    console, dice_roller, browser_page, otlp_receiver
) -> None:
    service = console(HTTP_CONSOLE_ALLOWED_HOSTS=target(dice_roller.base_url))
    page = browser_page
    page.goto(service.base_url)
    send(page, "GET", f"{dice_roller.base_url}/roll/4d6")
    page.locator("#status").get_by_text("200 OK").wait_for()
    body = json.loads(page.locator("#response-body").inner_text())
    assert len(body["rolls"]) == 4 and body["total"] == sum(body["rolls"])
    assert "content-type" in page.locator("#response-headers").inner_text()

    # The Send span's trace reaches the dice-roller: its server span descends from it.
    (send_span,) = poll_until(lambda: otlp_receiver.find(service="http-console", name="send"))
    assert send_span.is_error is False
    assert send_span.parent_span_id == ""  # one trace per Send, not a span in Shiny's trace
    server = poll_until(
        lambda: [
            s
            for s in otlp_receiver.trace(send_span.trace_id)
            if s.service == "dice-roller" and s.kind == 2  # its server span
        ]
    )[0]
    spans = {s.span_id: s for s in otlp_receiver.trace(send_span.trace_id)}
    client = spans[server.parent_span_id]
    assert client.service == "http-console" and client.parent_span_id == send_span.span_id
    href = page.locator("#trace-link").get_attribute("href")
    assert send_span.trace_id in href and "/explore?" in href
    log = service.wait_for_log(logger="http_console", status=200)
    assert log["level"] == "INFO" and log["session_id"] and log["trace_id"] == send_span.trace_id


def test_post_with_a_json_body_and_a_custom_header_arrives(console, echo, browser_page) -> None:
    service = console(HTTP_CONSOLE_ALLOWED_HOSTS=target(echo.url))
    page = browser_page
    page.goto(service.base_url)
    page.locator("#header_name_0").fill("X-Lab-Test")
    page.locator("#header_value_0").fill("hello")
    page.locator("#add_query").click()
    page.locator("#query_name_1").wait_for()
    page.locator("#query_name_0").fill("die")
    page.locator("#query_value_0").fill("fair")
    page.get_by_label("json").check()
    page.locator("#body").fill('{"name": "d8", "faces": [1, 2, 3]}')
    send(page, "POST", f"{echo.url}/dice")
    page.locator("#status").get_by_text("200 OK").wait_for()

    (received,) = echo.received
    assert received["method"] == "POST" and received["path"] == "/dice?die=fair"
    assert received["headers"]["x-lab-test"] == "hello"
    assert received["headers"]["content-type"] == "application/json"
    assert received["headers"]["traceparent"].startswith("00-")  # W3C context propagated
    assert json.loads(received["body"]) == {"name": "d8", "faces": [1, 2, 3]}

    page.locator("#resend").click()  # from the session's history
    poll_until(lambda: len(echo.received) == 2, timeout=15, what="the re-sent request")
    assert echo.received[1]["body"] == received["body"]


def test_errors_show_in_the_page_and_are_logged(console, echo, browser_page) -> None:
    port = free_port()
    service = console(HTTP_CONSOLE_ALLOWED_HOSTS=f"{target(echo.url)},127.0.0.1:{port}")
    page = browser_page
    page.goto(service.base_url)
    send(page, "GET", "not-a-url")
    page.locator("#error").get_by_text("Invalid URL 'not-a-url'").wait_for()

    page.get_by_label("json").check()
    page.locator("#body").fill("{broken")
    send(page, "POST", f"{echo.url}/x")
    page.locator("#error").get_by_text("The body is not valid JSON").wait_for()

    send(page, "GET", "http://localhost:1/")
    page.locator("#error").get_by_text("Refused: localhost:1 is not one of the lab's").wait_for()

    page.get_by_label("none").check()
    send(page, "GET", f"http://127.0.0.1:{port}/")
    page.locator("#error").get_by_text(f"Connection refused by 127.0.0.1:{port}").wait_for()
    error = service.wait_for_log(
        level="ERROR", logger="http_console", url=f"http://127.0.0.1:{port}/"
    )
    assert "Connection refused" in error["message"] and error["session_id"]
    assert echo.received == []  # nothing invalid was sent


OPEN_THE_CONSOLES_WEBSOCKET = """
url => new Promise(resolve => {
    const socket = new WebSocket(url);
    socket.onopen = () => { resolve("open"); socket.close(); };
    socket.onclose = event => resolve(`closed ${event.code}`);
})
"""


@pytest.fixture
def other_origin(tmp_path):
    """A page served from another origin (another port): what any web page could be."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    (tmp_path / "index.html").write_text("<html><body>another site</body></html>")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_page_on_another_origin_cannot_drive_the_console(
    console, browser_page, other_origin
) -> None:
    service = console()
    websocket = service.base_url.replace("http://", "ws://") + "/websocket/"
    # Before the fix this opened, and the page then sent requests through the console.
    browser_page.goto(other_origin)
    assert browser_page.evaluate(OPEN_THE_CONSOLES_WEBSOCKET, websocket).startswith("closed")
    refusal = service.wait_for_log(level="WARNING", origin=other_origin)
    assert "refused a websocket" in refusal["message"]
    # From the console's own page, the same websocket opens.
    browser_page.goto(service.base_url)
    assert browser_page.evaluate(OPEN_THE_CONSOLES_WEBSOCKET, websocket) == "open"


def test_a_foreign_host_name_gets_400_so_dns_rebinding_finds_nothing(console) -> None:
    import httpx

    service = console()
    port = service.base_url.rsplit(":", 1)[1]
    rebound = httpx.get(service.base_url, headers={"Host": f"rebound.example:{port}"}, timeout=5)
    assert rebound.status_code == 400
    assert httpx.get(service.base_url, timeout=5).status_code == 200
    # /healthz and /metrics answer any Host: Docker's healthcheck and Prometheus use addresses.
    assert httpx.get(f"{service.base_url}/metrics", headers={"Host": "10.0.0.5:8000"}).is_success
