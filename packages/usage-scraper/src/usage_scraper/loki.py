"""Reading Loki's query_range API: one page of entries, oldest first."""

from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Entry:
    labels: dict[str, str]
    timestamp_ns: int
    line: str


class LokiError(Exception):
    """Loki did not answer with a page (down, slow, 5xx, or an answer that is not its format);
    the message names Loki and its URL."""


async def query_range(
    client: httpx.AsyncClient, query: str, start_ns: int, end_ns: int, limit: int
) -> list[Entry]:
    """Entries with start <= timestamp < end, oldest first, at most `limit`.

    Loki's `start` is inclusive and `end` exclusive; `direction=forward` returns the oldest
    `limit` entries across every stream, each stream's values in order.
    """
    params = {
        "query": query,
        "start": str(start_ns),
        "end": str(end_ns),
        "limit": str(limit),
        "direction": "forward",
    }
    loki = f"Loki at {address(client)}"
    try:
        response = await client.get("/loki/api/v1/query_range", params=params)
    except httpx.TimeoutException as exc:
        raise LokiError(f"{loki} did not answer in time: {_name(exc)}") from None
    except httpx.HTTPError as exc:
        raise LokiError(f"{loki} unreachable: {_name(exc)}") from None
    if response.status_code != 200:
        raise LokiError(f"{loki} answered {response.status_code}: {response.text[:200]}")
    try:
        data = response.json()["data"]
        if data["resultType"] != "streams":
            raise ValueError(f"expected streams, got {data['resultType']}")
        entries = [
            # A value is [ts, line] or, with structured metadata categorised, [ts, line, {...}].
            Entry(stream["stream"], int(value[0]), value[1])
            for stream in data["result"]
            for value in stream["values"]
        ]
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise LokiError(f"{loki} answered in a format not Loki's: {exc!r}") from None
    entries.sort(key=lambda e: e.timestamp_ns)
    return entries


def address(client: httpx.AsyncClient) -> str:
    """Loki's URL as configured, without a user name or password it may carry."""
    return str(client.base_url.copy_with(username=None, password=None)).rstrip("/")


def _name(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
