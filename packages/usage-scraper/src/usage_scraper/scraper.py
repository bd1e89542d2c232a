"""The copying loop: from the saved position to now minus the safety lag, page by page."""

import asyncio
import logging
import time
from collections.abc import Callable

import asyncpg
import httpx
from lab_telemetry import Metrics
from opentelemetry import trace

from usage_scraper.events import to_row
from usage_scraper.loki import LokiError, query_range
from usage_scraper.settings import ScraperSettings
from usage_scraper.store import DatabaseUnavailable, Store

logger = logging.getLogger(__name__)


class ScraperMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self.stored = metrics.counter("usage_scraper_events_stored_total", "Usage events stored.")
        self.duplicates = metrics.counter(
            "usage_scraper_duplicates_skipped_total", "Entries read again and not stored twice."
        )
        self.bad_lines = metrics.counter(
            "usage_scraper_bad_lines_total", "Entries that were not usage events (kept raw)."
        )
        self.polls = metrics.counter("usage_scraper_polls_total", "Polls started.")
        self.failures = metrics.counter(
            "usage_scraper_failures_total", "Failed attempts, by what failed.", ("dependency",)
        )
        self.overflows = metrics.counter(
            "usage_scraper_timestamp_overflows_total",
            "Pages full of a single timestamp: entries past the page cap at it may be missing.",
        )
        self.behind = metrics.gauge(
            "usage_scraper_seconds_behind", "Now minus the saved position, in seconds."
        )
        for dependency in ("loki", "postgres", "unexpected"):
            self.failures.labels(dependency)


class Scraper:
    def __init__(
        self,
        settings: ScraperSettings,
        store: Store,
        loki: httpx.AsyncClient,
        metrics: ScraperMetrics,
        clock: Callable[[], int] = time.time_ns,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self.settings = settings
        # A span per poll: its log lines (stored N events, a failure) then carry a trace id,
        # so traces -> logs works for the scraper as for the services.
        self.tracer = tracer or trace.get_tracer(__name__)
        self.store = store
        self.loki = loki
        self.metrics = metrics
        self.clock = clock
        # For /healthz and the log lines: where the copy is, and how it is going.
        self.position_ns: int | None = None
        self.failed_polls = 0
        self.last_error: str | None = None
        self.stopped: str | None = None

    async def poll_once(self) -> int:
        """Copy everything from the saved position up to now minus the safety lag.

        Each page is stored together with the position after it, so a failure at any point
        leaves a position from which the next poll reads again what was not stored.
        """
        settings = self.settings
        self.metrics.polls.inc()
        now = self.clock()
        start = await self.store.position(settings.query)
        if start is None:
            start = now - int(settings.lookback_minutes * 60e9)
        end = now - int(settings.safety_lag_seconds * 1e9)
        stored = 0
        while start < end:
            self.position_ns = start
            entries = await query_range(self.loki, settings.query, start, end, settings.batch_size)
            if len(entries) < settings.batch_size:
                next_start = end  # the page holds everything in [start, end)
            elif entries[-1].timestamp_ns > start:
                # A full page: everything before its last timestamp is in it; the entries at
                # that timestamp may go on in the next page, so it starts there (inclusive).
                next_start = entries[-1].timestamp_ns
            else:
                # More entries at one nanosecond than a page holds: time cannot page further.
                self.metrics.overflows.inc()
                logger.error(
                    "a full page at one timestamp; entries past the cap may be missing",
                    extra={"timestamp_ns": start, "page_size": settings.batch_size},
                )
                next_start = start + 1
            rows = [to_row(entry) for entry in entries]
            inserted = await self.store.save(rows, settings.query, next_start)
            self.metrics.stored.inc(inserted.events)
            self.metrics.bad_lines.inc(inserted.bad)
            self.metrics.duplicates.inc(len(rows) - inserted.events - inserted.bad)
            self.metrics.behind.set((self.clock() - next_start) / 1e9)
            stored += inserted.events
            start = next_start
        return stored

    def health(self) -> str | None:
        """Why the copy is not working, or None: what /healthz answers 503 with."""
        if self.stopped is not None:
            return f"the copy loop stopped: {self.stopped}"
        if self.failed_polls >= self.settings.unhealthy_after_failed_polls:
            return f"{self.last_error} ({self.failed_polls} polls in a row failed)"
        return None

    async def run_forever(self) -> None:
        """Poll every interval; on any failure, log it, retry with backoff. Never exits on a fault.

        Loki or PostgreSQL down is expected (a WARNING); anything else is a bug or a poison
        input (an ERROR with the position it happened at, and its traceback), retried all the
        same, so the copy resumes by itself once the cause is gone.
        """
        first_backoff = min(1.0, self.settings.max_backoff_seconds)
        backoff = first_backoff
        try:
            while True:
                with self.tracer.start_as_current_span("poll") as span:
                    try:
                        stored = await self.poll_once()
                    except Exception as exc:  # every failure is retried, see above
                        span.record_exception(exc)
                        span.set_status(trace.StatusCode.ERROR, str(exc) or type(exc).__name__)
                        self._failed(exc, backoff)
                        stored = None
                    else:
                        span.set_attribute("usage_scraper.rows_stored", stored)
                        if stored:
                            logger.info("stored %d usage events", stored, extra={"stored": stored})
                if stored is None:
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, self.settings.max_backoff_seconds)
                    continue
                backoff = first_backoff
                self.failed_polls, self.last_error = 0, None
                await asyncio.sleep(self.settings.poll_interval_seconds)
        except BaseException as exc:
            self.stopped = repr(exc)
            raise

    def _failed(self, exc: Exception, backoff: float) -> None:
        self.failed_polls += 1
        # What failed and where: Loki's and the store's errors name theirs already.
        self.last_error = str(exc) or type(exc).__name__
        if isinstance(exc, asyncpg.PostgresError):  # a wrong password, a missing database
            self.last_error = f"PostgreSQL at {self.store.address}: {self.last_error}"
        if isinstance(exc, LokiError | DatabaseUnavailable):
            dependency = "loki" if isinstance(exc, LokiError) else "postgres"
            self.metrics.failures.labels(dependency).inc()
            logger.warning(
                "poll failed, retrying in %.0f s: %s",
                backoff,
                exc,
                extra={"dependency": dependency},
            )
            return
        self.metrics.failures.labels("unexpected").inc()
        logger.error(
            "poll failed unexpectedly at position %s, retrying in %.0f s: %r",
            self.position_ns,
            backoff,
            exc,
            exc_info=exc,
            extra={"dependency": "unexpected", "position_ns": self.position_ns},
        )
