"""A Loki entry as a usage_events row: parsed when it is a usage event, kept raw when it is not."""

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from usage_scraper.loki import Entry


@dataclass(frozen=True)
class Row:
    event_key: bytes
    event_time: datetime
    service: str
    event: str | None
    attributes: str  # JSON text, for jsonb
    labels: str  # JSON text, for jsonb
    raw_line: str
    bad_reason: str | None

    @property
    def is_bad(self) -> bool:
        return self.bad_reason is not None


def event_key(entry: Entry) -> bytes:
    """The identity of an entry: its stream's labels, its timestamp and its line.

    The same entry read twice (overlapping pages, a restart) has the same key, so the unique
    constraint stores it once; distinct entries differ in one of the three.
    """
    labels = json.dumps(entry.labels, sort_keys=True, separators=(",", ":"))
    key = f"{labels}\n{entry.timestamp_ns}\n{entry.line}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(key).digest()


# Loki's default max_line_size; a longer line is kept cut to this, as bad.
MAX_LINE_BYTES = 256 * 1024
NUL = "\x00"
UNSTORABLE_JSON = "holds values jsonb cannot store (NUL, NaN, Infinity, lone surrogates): kept raw"


def storable(text: str) -> str:
    """`text` as PostgreSQL can hold it: text and jsonb refuse NUL, UTF-8 refuses lone surrogates.

    NUL becomes the six characters \\u0000; anything not encodable is backslash-escaped.
    """
    text = text.replace(NUL, "\\u0000")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _parse(line: str) -> tuple[str | None, dict, str | None, str | None]:
    """(event, attributes, service, bad reason) of a line no longer than MAX_LINE_BYTES."""
    if NUL in line:
        return None, {}, None, "holds NUL (U+0000), which PostgreSQL cannot store: kept escaped"
    try:
        parsed = json.loads(line)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python parses
        return None, {}, None, "not valid JSON"
    if not isinstance(parsed, dict):
        return None, {}, None, "not a JSON object"
    event = parsed.get("event")
    if not isinstance(event, str) or not event:
        return None, {}, None, "no event name"
    attributes = parsed.get("attributes") if isinstance(parsed.get("attributes"), dict) else {}
    service = parsed.get("service") if isinstance(parsed.get("service"), str) else None
    try:
        # jsonb holds no NUL (even escaped), no Infinity or NaN, and only valid UTF-8.
        text = json.dumps([event, attributes, service], allow_nan=False, ensure_ascii=False)
        if NUL in text or "\\u0000" in text:
            raise ValueError("NUL")
        text.encode("utf-8")
    except (ValueError, RecursionError):  # UnicodeEncodeError is a ValueError
        return None, {}, None, UNSTORABLE_JSON
    return event, attributes, service, None


def to_row(entry: Entry) -> Row:
    """The entry as a row PostgreSQL accepts, whatever the line holds; bad lines are kept raw."""
    encoded = entry.line.encode("utf-8", "surrogatepass")
    if len(encoded) > MAX_LINE_BYTES:
        event, attributes, service = None, {}, None
        reason = f"longer than {MAX_LINE_BYTES} bytes: kept cut to that"
        raw_line = encoded[:MAX_LINE_BYTES].decode("utf-8", "ignore")
    else:
        event, attributes, service, reason = _parse(entry.line)
        raw_line = entry.line
    labels = {storable(k): storable(v) for k, v in entry.labels.items()}
    return Row(
        event_key=event_key(entry),
        event_time=datetime.fromtimestamp(entry.timestamp_ns / 1e9, UTC),
        service=storable(service or entry.labels.get("service_name", "") or "unknown"),
        event=event,
        attributes=json.dumps(attributes, sort_keys=True),
        labels=json.dumps(labels, sort_keys=True),
        raw_line=storable(raw_line),
        bad_reason=reason,
    )


def refused(row: Row, reason: str) -> Row:
    """A row PostgreSQL would not store, as a bad one it will: the line escaped, nothing parsed."""
    return replace(
        row,
        event=None,
        attributes="{}",
        raw_line=storable(row.raw_line),
        bad_reason=f"PostgreSQL refused it: {storable(reason)[:200]}",
    )
