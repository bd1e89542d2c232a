"""A PostgreSQL pool for a service that must start, and keep answering, while the database is down.

The pool is made on first use, with the caller's schema and seed, so the service starts without
its database and recovers by itself when the database comes back; a database that is down,
restarting or unreachable raises DatabaseUnavailable, which the service answers with a 503.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg

logger = logging.getLogger(__name__)

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
    """The database cannot be reached now; the service answers 503 and tries again next time."""


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """No reset on release: the lab's services set no session state (no LISTEN, locks or SET),
    and the default reset is a round trip per query that would also show as a span in every
    trace."""


class Database:
    def __init__(
        self, dsn: str, timeout: float, prepare: Callable[[asyncpg.Pool], Awaitable[None]]
    ) -> None:
        self.dsn = dsn
        self.timeout = timeout
        # Run once on the new pool before it is used: the schema and the seed.
        self.prepare = prepare
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def pool(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        async with self._lock:
            if self._pool is None:
                pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=1,
                    max_size=10,
                    timeout=self.timeout,
                    command_timeout=self.timeout,
                    reset=_keep_session,
                )
                try:
                    await self.prepare(pool)
                except BaseException:
                    await pool.close()
                    raise
                self._pool = pool
        return self._pool

    async def connect(self) -> None:
        """Connect and prepare at start-up, if the database is up by then."""
        try:
            await self.pool()
        except UNAVAILABLE as exc:
            logger.warning("database unavailable at start-up, will retry per request: %s", exc)

    async def run(self, method: str, *args: object) -> object:
        """`pool.<method>(*args)` (fetch, fetchrow, execute ...); DatabaseUnavailable when down."""
        try:
            pool = await self.pool()
            return await getattr(pool, method)(*args)
        except UNAVAILABLE as exc:
            logger.warning("database unavailable: %s", exc or type(exc).__name__)
            raise DatabaseUnavailable(str(exc) or type(exc).__name__) from None

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
