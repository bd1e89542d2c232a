"""http-console's request building, sending and response rendering, case by case."""

import asyncio
import json
import logging

import httpx
import pytest
from http_console.requests import RequestError, RequestSpec, build, render_body, send
from http_console.settings import ConsoleSettings
from http_console.traced_sends import log_level_for

ANY = {"*"}  # any target: these tests are about building and sending


def test_query_headers_and_json_body_are_built() -> None:
    prepared = build(
        RequestSpec(
            "post",
            "http://127.0.0.1:8502/dice?x=1",
            query=[("die", "fair"), ("", "ignored")],
            headers=[("X-Trace-Me", "yes"), ("", "")],
            body_mode="json",
            body='{"name": "d8",\n "faces": [1, 2]}',
        ),
        ANY,
    )
    assert prepared.method == "POST"
    assert str(prepared.url) == "http://127.0.0.1:8502/dice?x=1&die=fair"
    assert prepared.headers == [("X-Trace-Me", "yes"), ("Content-Type", "application/json")]
    assert json.loads(prepared.content) == {"name": "d8", "faces": [1, 2]}


def test_raw_body_keeps_its_bytes_and_a_given_content_type_wins() -> None:
    prepared = build(
        RequestSpec(
            "PUT",
            "https://example.test/x",
            headers=[("content-type", "text/csv")],
            body_mode="raw",
            body="a,b\n1,2",
        ),
        ANY,
    )
    assert prepared.content == b"a,b\n1,2"
    assert prepared.headers == [("content-type", "text/csv")]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (RequestSpec("GET", "not a url"), "Invalid URL 'not a url': it needs http:// or https://"),
        (RequestSpec("GET", "ftp://host/x"), "it needs http:// or https:// and a host"),
        (RequestSpec("GET", "http://"), "Invalid URL"),
        (RequestSpec("FETCH", "http://h/"), "Unknown method 'FETCH'"),
        (
            RequestSpec("POST", "http://h/", body_mode="json", body='{"a": }'),
            "The body is not valid JSON: Expecting value at line 1, column 7.",
        ),
        (RequestSpec("GET", "http://h/", headers=[("Bad Header", "x")]), "Invalid header name"),
        (RequestSpec("GET", "http://h/", headers=[("X", "a\r\nInjected: 1")]), "line break"),
        (RequestSpec("GET", "http://h/", timeout=0), "timeout must be between"),
    ],
)
def test_bad_requests_say_what_is_wrong(spec: RequestSpec, message: str) -> None:
    with pytest.raises(RequestError) as error:
        build(spec, ANY)
    assert message in str(error.value)


def test_the_allow_list_is_host_and_port_and_the_labs_services_by_default() -> None:
    settings = ConsoleSettings(allowed_hosts="127.0.0.1:9999, My-API:8080")
    assert settings.allowed_hosts == ["127.0.0.1:9999", "my-api:8080"]
    for allowed in (
        "http://my-api:8080/x",
        "http://127.0.0.1:9999/",
        "http://127.0.0.1:8001/roll/3d6",  # the lab's dice-roller, on the host
        "http://localhost:8501/roll",
        "http://demo-dice-roller:8000/roll/3d6",  # and in the compose network
        "http://stage5-die-service:8000/dice",
        "http://prometheus:9090/api/v1/query",
    ):
        build(RequestSpec("GET", allowed), settings.targets)
    for refused in (
        "http://example.com/",  # port 80
        "https://my-api/",  # port 443, not 8080: the port is part of the entry
        "http://127.0.0.1:5433/",  # the usage database's port, not an HTTP service of the lab
        "http://169.254.169.254/latest/meta-data/",
    ):
        with pytest.raises(RequestError, match="is not one of the lab's services"):
            build(RequestSpec("GET", refused), settings.targets)
    build(RequestSpec("GET", "http://example.com/"), ConsoleSettings(allowed_hosts="*").targets)


@pytest.mark.parametrize("entry", ["127.0.0.1", "host:port", "h:70000", ":80"])
def test_an_allow_list_entry_without_a_port_is_refused_at_start(entry: str) -> None:
    with pytest.raises(ValueError, match="is not host:port"):
        ConsoleSettings(allowed_hosts=entry)


def test_a_non_ascii_header_value_is_refused_with_a_message() -> None:
    # It used to end the browser session with no message (httpx cannot encode it).
    with pytest.raises(RequestError, match=r"has 'é', which is not ASCII"):
        build(RequestSpec("GET", "http://h/", headers=[("X-Name", "café")]), ANY)


def test_credentials_in_a_url_are_not_in_its_label() -> None:
    label = RequestSpec("GET", "http://user:s3cret@127.0.0.1:8001/roll/3d6").label
    assert "s3cret" not in label and "user" not in label
    assert label == "GET http://REDACTED:REDACTED@127.0.0.1:8001/roll/3d6"


def test_json_is_pretty_printed_text_is_text_binary_is_not_shown() -> None:
    assert render_body("application/json", b'{"a":[1,2]}', True, 11) == (
        "json",
        '{\n  "a": [\n    1,\n    2\n  ]\n}',
        None,
    )
    assert render_body("text/plain; charset=utf-8", "héllo".encode(), True, 6)[:2] == (
        "text",
        "héllo",
    )
    kind, text, note = render_body("image/png", b"\x89PNG", True, 4)
    assert (kind, text) == ("binary", "") and "binary body" in note
    assert render_body("application/json", b"{not json", True, 9)[0] == "text"
    assert render_body("", b"", True, 0) == ("empty", "", None)


def answer(handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def sent(handler, url: str = "http://127.0.0.1:9/x", limit: int = 1000):
    async def go():
        async with answer(handler) as client:
            return await send(client, build(RequestSpec("GET", url, timeout=2), ANY), limit)

    return asyncio.run(go())


def test_a_body_over_the_limit_is_cut_with_a_note() -> None:
    view = sent(
        lambda r: httpx.Response(200, content=b"x" * 5000, headers={"content-type": "text/plain"})
    )
    assert view.body == "x" * 1000 and view.body_kind == "text"
    assert view.note == "Showing the first 1,000 bytes of a larger body."
    assert (view.status, view.reason) == (200, "OK")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            httpx.ConnectError("[Errno 111] Connection refused"),
            "Connection refused by 127.0.0.1:9: is the service running?",
        ),
        (
            httpx.ConnectError("[Errno -2] Name or service not known"),
            "Could not resolve the host '127.0.0.1'.",
        ),
        (httpx.ReadTimeout("timed out"), "No answer from 127.0.0.1:9 within 2 s."),
        (
            httpx.RemoteProtocolError("peer closed"),
            "The request to 127.0.0.1:9 failed: peer closed",
        ),
    ],
)
def test_transport_failures_are_clear_errors(error: Exception, message: str) -> None:
    def fail(_request):
        raise error

    with pytest.raises(RequestError) as raised:
        sent(fail)
    assert str(raised.value) == message


def test_a_refused_connection_for_real() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    async def go():
        async with httpx.AsyncClient() as client:
            return await send(
                client, build(RequestSpec("GET", f"http://127.0.0.1:{port}/"), ANY), 100
            )

    with pytest.raises(RequestError, match="Connection refused"):
        asyncio.run(go())


@pytest.mark.parametrize(
    ("status", "level"),
    [(200, logging.INFO), (302, logging.INFO), (404, logging.WARNING), (503, logging.ERROR)],
)
def test_a_sends_log_level_follows_the_answers_status(status: int, level: int) -> None:
    assert log_level_for(status) == level
