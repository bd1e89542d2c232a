"""Reading Loki's query_range API: one page of entries, oldest first."""

from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class Entry:
    labels: dict[str, str]
    timestamp_ns: int
    line: str


class LokiError(Exception):
    """Loki did not answer with a page (down, slow, 5xx, or an answer that is not its format)."""


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
    try:
        response = await client.get("/loki/api/v1/query_range", params=params)
    except httpx.HTTPError as exc:
        raise LokiError(f"{type(exc).__name__} from {client.base_url}: {exc}") from None
    if response.status_code != 200:
        raise LokiError(f"Loki answered {response.status_code}: {response.text[:200]}")
    try:
        data = response.json()["data"]
        if data["resultType"] != "streams":
            raise LokiError(f"expected streams, got {data['resultType']}")
        entries = [
            # A value is [ts, line] or, with structured metadata categorised, [ts, line, {...}].
            Entry(stream["stream"], int(value[0]), value[1])
            for stream in data["result"]
            for value in stream["values"]
        ]
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise LokiError(f"an answer not in Loki's format: {exc!r}") from None
    entries.sort(key=lambda e: e.timestamp_ns)
    return entries
