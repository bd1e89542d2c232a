"""A Loki entry as a usage_events row: parsed when it is a usage event, kept raw when it is not."""

import hashlib
import json
from dataclasses import dataclass
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
    return hashlib.sha256(f"{labels}\n{entry.timestamp_ns}\n{entry.line}".encode()).digest()


def to_row(entry: Entry) -> Row:
    event_time = datetime.fromtimestamp(entry.timestamp_ns / 1e9, UTC)
    service = entry.labels.get("service_name", "")
    event, attributes, reason = None, {}, None
    try:
        parsed = json.loads(entry.line)
    except ValueError:
        reason = "not valid JSON"
    else:
        if not isinstance(parsed, dict):
            reason = "not a JSON object"
        elif not isinstance(parsed.get("event"), str) or not parsed["event"]:
            reason = "no event name"
        else:
            event = parsed["event"]
            service = parsed.get("service") or service
            attributes = (
                parsed.get("attributes") if isinstance(parsed.get("attributes"), dict) else {}
            )
    return Row(
        event_key=event_key(entry),
        event_time=event_time,
        service=service or "unknown",
        event=event,
        attributes=json.dumps(attributes, sort_keys=True),
        labels=json.dumps(entry.labels, sort_keys=True),
        raw_line=entry.line,
        bad_reason=reason,
    )
