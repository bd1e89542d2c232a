"""usage_events and the saved position in PostgreSQL, each page stored with its position."""

import asyncio
import logging
from importlib import resources
from typing import NamedTuple
from urllib.parse import urlsplit

import asyncpg

from usage_scraper.events import Row, refused

logger = logging.getLogger(__name__)

SCHEMA = resources.files(__package__) / "schema.sql"
COLUMNS = (
    "event_key",
    "event_time",
    "service",
    "event",
    "attributes",
    "labels",
    "raw_line",
    "bad_reason",
)
INSERT_NEW = """
INSERT INTO usage_events
    (event_key, event_time, service, event, attributes, labels, raw_line, bad_reason)
SELECT event_key, event_time, service, event, attributes, labels, raw_line, bad_reason
FROM incoming
ON CONFLICT (event_key) DO NOTHING
RETURNING bad_reason IS NULL AS is_event
"""
# What a database that is down, restarting or unreachable raises.
UNAVAILABLE = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InternalClientError,
)


class DatabaseUnavailable(Exception):
    """PostgreSQL is down, restarting or unreachable; the message names it and its address."""


def address(dsn: str) -> str:
    """host:port of a postgresql:// URL, never its user name or password."""
    try:
        url = urlsplit(dsn)
        host, port = url.hostname, url.port or 5432
    except ValueError:  # a port that is not a number, or several hosts
        host = None
    # A password with an unescaped / ? or # ends the URL's host part before its @.
    if not host or ("@" in dsn and "@" not in url.netloc):
        return "the host in DATABASE_URL"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# What PostgreSQL raises for a row it will not store (bad text, bad JSON, a value out of range),
# and what asyncpg raises when it cannot even encode one.
REFUSED = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError, UnicodeError, ValueError)


class Inserted(NamedTuple):
    """Rows a save inserted: usage events, and bad lines kept raw (duplicates are neither)."""

    events: int = 0
    bad: int = 0

    def __add__(self, other: "Inserted") -> "Inserted":  # type: ignore[override]
        return Inserted(self.events + other.events, self.bad + other.bad)


async def _insert(connection: asyncpg.Connection, rows: list[Row]) -> Inserted:
    """COPY into the scratch table, then one INSERT that skips known keys: the speed of COPY with
    the idempotence of ON CONFLICT DO NOTHING."""
    if not rows:
        return Inserted()
    await connection.execute("TRUNCATE incoming")
    await connection.copy_records_to_table(
        "incoming", records=[tuple(getattr(r, c) for c in COLUMNS) for r in rows], columns=COLUMNS
    )
    inserted = [record["is_event"] for record in await connection.fetch(INSERT_NEW)]
    return Inserted(events=sum(inserted), bad=len(inserted) - sum(inserted))


async def _insert_one_by_one(connection: asyncpg.Connection, rows: list[Row]) -> Inserted:
    inserted = Inserted()
    for row in rows:
        try:
            async with connection.transaction():
                inserted += await _insert(connection, [row])
        except REFUSED as exc:
            logger.warning(
                "PostgreSQL refused a line; stored raw as bad: %s", exc, extra={"bad_line": True}
            )
            async with connection.transaction():
                inserted += await _insert(connection, [refused(row, str(exc))])
    return inserted


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """No reset on release: the scraper sets no session state, and a reset is a round trip."""


class Store:
    def __init__(self, dsn: str, timeout: float = 30) -> None:
        self.dsn = dsn
        self.address = address(dsn)
        self.timeout = timeout
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def _get_pool(self) -> asyncpg.Pool:
        """Made, with the schema, on first use; again after a failure, so the scraper recovers."""
        async with self._lock:
            if self._pool is None:
                pool = await asyncpg.create_pool(
                    self.dsn, min_size=1, max_size=2, timeout=self.timeout, reset=_keep_session
                )
                try:
                    async with pool.acquire() as connection:
                        await connection.execute(SCHEMA.read_text())
                except BaseException:
                    await pool.close()
                    raise
                self._pool = pool
        return self._pool

    async def position(self, query: str) -> int | None:
        """The saved position (the next inclusive start, in ns) of a query, or None."""
        try:
            pool = await self._get_pool()
            return await pool.fetchval(
                "SELECT position_ns FROM scraper_position WHERE query = $1", query
            )
        except UNAVAILABLE as exc:
            await self._discard_pool()
            raise self._unavailable(exc) from None

    async def save(self, rows: list[Row], query: str, position_ns: int) -> Inserted:
        """Store the rows (skipping keys already stored) and the new position, in one
        transaction: either both are there afterwards or neither is."""
        try:
            pool = await self._get_pool()
            async with pool.acquire() as connection, connection.transaction():
                await connection.execute(
                    "CREATE TEMP TABLE incoming (LIKE usage_events INCLUDING DEFAULTS)"
                    " ON COMMIT DROP"
                )
                try:
                    async with connection.transaction():  # a savepoint
                        inserted = await _insert(connection, rows)
                except REFUSED:
                    # One row PostgreSQL will not take must not stop the copy: row by row, a
                    # refused row is stored raw as bad, with PostgreSQL's reason.
                    inserted = await _insert_one_by_one(connection, rows)
                await connection.execute(
                    "INSERT INTO scraper_position (query, position_ns, updated_at)"
                    " VALUES ($1, $2, now()) ON CONFLICT (query)"
                    " DO UPDATE SET position_ns = EXCLUDED.position_ns, updated_at = now()",
                    query,
                    position_ns,
                )
                return inserted
        except UNAVAILABLE as exc:
            await self._discard_pool()
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: BaseException) -> DatabaseUnavailable:
        reason = str(exc) or type(exc).__name__
        return DatabaseUnavailable(f"PostgreSQL at {self.address} unreachable: {reason}")

    async def _discard_pool(self) -> None:
        """After a connection failure, start over with a new pool on the next attempt."""
        async with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
