"""Building a request from what the page holds, sending it, and rendering the response.

Kept apart from the Shiny page so every case is unit-tested: each error becomes a RequestError
whose message is what the page shows.
"""

import json
import re
import socket
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import httpx
from opentelemetry.util.http import redact_url

from http_console.settings import ANY_TARGET

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
BODY_MODES = ("none", "json", "raw")
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
EXAMPLE_URL = "http://127.0.0.1:8001/roll/3d6"
DEFAULT_PORTS = {"http": 80, "https": 443}


class RequestError(ValueError):
    """A request that cannot be sent, or that got no answer; the message is for the page."""


@dataclass(frozen=True)
class RequestSpec:
    """What the page holds: the request as a person described it."""

    method: str
    url: str
    query: Sequence[tuple[str, str]] = ()
    headers: Sequence[tuple[str, str]] = ()
    body_mode: str = "none"
    body: str = ""
    timeout: float = 10.0

    @property
    def label(self) -> str:
        """For the history list: credentials in the URL redacted."""
        return f"{self.method} {redact_url(self.url)}"


@dataclass(frozen=True)
class Prepared:
    method: str
    url: httpx.URL
    headers: list[tuple[str, str]]
    content: bytes | None
    timeout: float


@dataclass(frozen=True)
class ResponseView:
    status: int
    reason: str
    elapsed_ms: float
    headers: list[tuple[str, str]]
    body: str
    # "json" (pretty-printed), "text", "binary" (not shown) or "empty"
    body_kind: str
    note: str | None = None
    size: int = 0


def build(spec: RequestSpec, allowed_targets: Collection[str]) -> Prepared:
    """The request to send, or a RequestError saying what is wrong with it.

    `allowed_targets` holds host:port entries ("*": any): the console is not an open proxy.
    """
    method = spec.method.upper()
    if method not in METHODS:
        raise RequestError(f"Unknown method {spec.method!r}: use one of {', '.join(METHODS)}.")
    try:
        url = httpx.URL(spec.url.strip())
    except httpx.InvalidURL as exc:
        raise RequestError(f"Invalid URL {spec.url!r}: {exc}. For example {EXAMPLE_URL}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise RequestError(
            f"Invalid URL {spec.url!r}: it needs http:// or https:// and a host, "
            f"for example {EXAMPLE_URL}"
        )
    target = f"{url.host.lower()}:{url.port or DEFAULT_PORTS[url.scheme]}"
    if ANY_TARGET not in allowed_targets and target not in allowed_targets:
        raise RequestError(
            f"Refused: {target} is not one of the lab's services; HTTP_CONSOLE_ALLOWED_HOSTS "
            "(host:port entries, comma-separated) allows more."
        )
    query = [(k.strip(), v) for k, v in spec.query if k.strip()]
    if query:
        url = url.copy_merge_params(query)
    headers = []
    for name, value in spec.headers:
        name = name.strip()
        if not name:
            continue
        if not HEADER_NAME.match(name):
            raise RequestError(f"Invalid header name {name!r}: letters, digits and -_. only.")
        if "\n" in value or "\r" in value:
            raise RequestError(f"The value of header {name} has a line break.")
        if not value.isascii():
            odd = next(c for c in value if not c.isascii())
            raise RequestError(
                f"The value of header {name} has {odd!r}, which is not ASCII: header values "
                "carry ASCII only (percent-encode the rest)."
            )
        headers.append((name, value))
    content = None
    if spec.body_mode == "json":
        try:
            parsed = json.loads(spec.body)
        except json.JSONDecodeError as exc:
            raise RequestError(
                f"The body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            ) from None
        content = json.dumps(parsed).encode()
        if not any(n.lower() == "content-type" for n, _ in headers):
            headers.append(("Content-Type", "application/json"))
    elif spec.body_mode == "raw":
        content = spec.body.encode()
    elif spec.body_mode != "none":
        raise RequestError(f"Unknown body mode {spec.body_mode!r}: use none, json or raw.")
    if not 0 < spec.timeout <= 300:
        raise RequestError("The timeout must be between 0 and 300 seconds.")
    return Prepared(method, url, headers, content, spec.timeout)


async def send(client: httpx.AsyncClient, prepared: Prepared, max_body_bytes: int) -> ResponseView:
    """Send it; read at most `max_body_bytes` of the body (the rest is not downloaded)."""
    target = (
        f"{prepared.url.host}:{prepared.url.port or {'https': 443}.get(prepared.url.scheme, 80)}"
    )
    started = time.perf_counter()
    try:
        async with client.stream(
            prepared.method,
            prepared.url,
            headers=prepared.headers,
            content=prepared.content,
            timeout=prepared.timeout,
        ) as response:
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data.extend(chunk)
                if len(data) > max_body_bytes:
                    break
            complete = len(data) <= max_body_bytes
            size = int(response.headers.get("content-length", 0)) or len(data)
            elapsed_ms = (time.perf_counter() - started) * 1000
    except httpx.TimeoutException:
        raise RequestError(f"No answer from {target} within {prepared.timeout:g} s.") from None
    except httpx.ConnectError as exc:
        causes = _causes(exc)
        if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in str(exc):
            raise RequestError(f"Connection refused by {target}: is the service running?") from None
        if any(isinstance(c, socket.gaierror) for c in causes) or "not known" in str(exc):
            raise RequestError(f"Could not resolve the host {prepared.url.host!r}.") from None
        raise RequestError(f"Could not connect to {target}: {exc}") from None
    except httpx.HTTPError as exc:
        raise RequestError(f"The request to {target} failed: {exc}") from None
    kind, body, note = render_body(
        response.headers.get("content-type", ""), bytes(data[:max_body_bytes]), complete, size
    )
    return ResponseView(
        status=response.status_code,
        reason=response.reason_phrase,
        elapsed_ms=elapsed_ms,
        headers=list(response.headers.items()),
        body=body,
        body_kind=kind,
        note=note,
        size=size,
    )


def _causes(exc: BaseException) -> list[BaseException]:
    """The chain of exceptions behind `exc` (httpx wraps the socket error in a few layers)."""
    chain = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def render_body(
    content_type: str, data: bytes, complete: bool, size: int
) -> tuple[str, str, str | None]:
    """(kind, text, note): JSON pretty-printed, text as text, binary not shown; cut bodies noted."""
    note = None if complete else f"Showing the first {len(data):,} bytes of a larger body."
    if not data:
        return "empty", "", note
    media = content_type.split(";")[0].strip().lower()
    if complete and (media == "application/json" or media.endswith("+json")):
        try:
            return "json", json.dumps(json.loads(data), indent=2, ensure_ascii=False), note
        except ValueError:
            note = "The body says it is JSON but is not valid JSON; shown as text."
    if media.startswith(("image/", "audio/", "video/")) or media in (
        "application/octet-stream",
        "application/pdf",
        "application/zip",
    ):
        return "binary", "", f"A binary body ({media}, {size:,} bytes) is not shown."
    return "text", data.decode("utf-8", errors="replace"), note
