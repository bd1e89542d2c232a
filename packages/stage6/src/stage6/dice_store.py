"""Die specifications in PostgreSQL through asyncpg: schema and seed on first use; 503 when down."""

import asyncio
import logging

import asyncpg

from stage6.dice_spec import DieSpec, Faults

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS dice (
    name              text PRIMARY KEY,
    faces             integer[] NOT NULL,
    weights           double precision[],
    failure_rate      double precision NOT NULL DEFAULT 0,
    slow_rate         double precision NOT NULL DEFAULT 0,
    delay_min_seconds double precision NOT NULL DEFAULT 0,
    delay_max_seconds double precision NOT NULL DEFAULT 0,
    created_at        timestamptz NOT NULL DEFAULT now()
)
"""
INSERT = """
INSERT INTO dice
    (name, faces, weights, failure_rate, slow_rate, delay_min_seconds, delay_max_seconds)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""
# Added only while fewer than $8 dice are stored: POST /dice cannot fill the disk.
INSERT_BELOW_CAP = """
INSERT INTO dice
    (name, faces, weights, failure_rate, slow_rate, delay_min_seconds, delay_max_seconds)
SELECT $1::text, $2::integer[], $3::double precision[], $4::double precision,
       $5::double precision, $6::double precision, $7::double precision
WHERE (SELECT count(*) FROM dice) < $8::bigint
"""
# One statement, so two changes at once cannot interleave; unnamed faults keep their values.
UPDATE_FAULTS = """
UPDATE dice SET
    failure_rate = coalesce($2, failure_rate),
    slow_rate = coalesce($3, slow_rate),
    delay_min_seconds = coalesce($4, delay_min_seconds),
    delay_max_seconds = coalesce($5, delay_max_seconds)
WHERE name = $1
RETURNING name, faces, weights, failure_rate, slow_rate, delay_min_seconds, delay_max_seconds
"""
SELECT = """
SELECT name, faces, weights, failure_rate, slow_rate, delay_min_seconds, delay_max_seconds
FROM dice
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
    """The database cannot be reached now; the service answers 503 and tries again next time."""


class DuplicateDie(Exception):
    pass


class StoreFull(Exception):
    """The store holds its maximum number of dice."""


def _row(spec: DieSpec) -> tuple:
    low, high = spec.delay_range_seconds
    return (spec.name, spec.faces, spec.weights, spec.failure_rate, spec.slow_rate, low, high)


def _spec(record: asyncpg.Record) -> DieSpec:
    return DieSpec(
        name=record["name"],
        faces=record["faces"],
        weights=record["weights"],
        failure_rate=record["failure_rate"],
        slow_rate=record["slow_rate"],
        delay_range_seconds=(record["delay_min_seconds"], record["delay_max_seconds"]),
    )


async def _keep_session(_connection: asyncpg.Connection) -> None:
    """No reset on release: this app sets no session state (no LISTEN, locks or SET), and the
    default reset is a round trip per query that would also show as a span in every trace."""


class DiceStore:
    def __init__(self, dsn: str, seed: list[DieSpec], timeout: float, max_dice: int = 200) -> None:
        self.dsn = dsn
        self.seed = seed
        self.timeout = timeout
        self.max_dice = max_dice
        self._pool: asyncpg.Pool | None = None
        self._lock = asyncio.Lock()

    async def _get_pool(self) -> asyncpg.Pool:
        """The pool, made (with the schema and seed) on first use, so the service starts even
        while the database is down, and recovers by itself when it comes back."""
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
                    await self._create_schema(pool)
                except BaseException:
                    await pool.close()
                    raise
                self._pool = pool
        return self._pool

    async def _create_schema(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute(SCHEMA)
            if not await connection.fetchval("SELECT EXISTS (SELECT 1 FROM dice)"):
                await connection.executemany(
                    INSERT + " ON CONFLICT (name) DO NOTHING", [_row(s) for s in self.seed]
                )
                logger.info("seeded the dice table with %d dice", len(self.seed))

    async def connect(self) -> None:
        """Connect, create the schema and seed at start-up, if the database is up by then."""
        try:
            await self._get_pool()
        except UNAVAILABLE as exc:
            logger.warning("database unavailable at start-up, will retry per request: %s", exc)

    async def _run(self, method: str, *args: object) -> object:
        try:
            pool = await self._get_pool()
            return await getattr(pool, method)(*args)
        except asyncpg.UniqueViolationError:
            raise DuplicateDie(str(args[1])) from None
        except UNAVAILABLE as exc:
            logger.warning("database unavailable: %s", exc or type(exc).__name__)
            raise DatabaseUnavailable(str(exc) or type(exc).__name__) from None

    async def all(self) -> list[DieSpec]:
        records = await self._run("fetch", SELECT + "ORDER BY created_at, name")
        return [_spec(r) for r in records]  # type: ignore[union-attr]

    async def get(self, name: str) -> DieSpec | None:
        record = await self._run("fetchrow", SELECT + "WHERE name = $1", name)
        return _spec(record) if record else None  # type: ignore[arg-type]

    async def add(self, spec: DieSpec) -> None:
        status = await self._run("execute", INSERT_BELOW_CAP, *_row(spec), self.max_dice)
        if status == "INSERT 0 0":
            raise StoreFull(f"the die-service already holds {self.max_dice} dice")

    async def set_faults(self, name: str, faults: Faults) -> DieSpec | None:
        """The die with its faults changed; None if there is no such die."""
        low, high = faults.delay_range_seconds or (None, None)
        record = await self._run(
            "fetchrow", UPDATE_FAULTS, name, faults.failure_rate, faults.slow_rate, low, high
        )
        return _spec(record) if record else None  # type: ignore[arg-type]

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
