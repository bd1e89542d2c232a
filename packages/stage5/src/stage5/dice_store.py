"""The dice in PostgreSQL: the table, its queries, and the store the die-service calls.

lab_dice.database keeps the pool (made on first use, a 503 while the database is down); what
this file shows is the SQL, and that every query through asyncpg becomes a span.
"""

import logging

import asyncpg
from lab_dice.database import Database
from lab_dice.dice import DieSpec

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
SELECT = """
SELECT name, faces, weights, failure_rate, slow_rate, delay_min_seconds, delay_max_seconds
FROM dice
"""


class DuplicateDie(Exception):
    pass


class StoreFull(Exception):
    """The store holds its maximum number of dice."""


def _row(spec: DieSpec) -> tuple:
    low, high = spec.delay_range_seconds
    return (spec.name, spec.faces, spec.weights, spec.failure_rate, spec.slow_rate, low, high)


def spec_of(record: asyncpg.Record) -> DieSpec:
    return DieSpec(
        name=record["name"],
        faces=record["faces"],
        weights=record["weights"],
        failure_rate=record["failure_rate"],
        slow_rate=record["slow_rate"],
        delay_range_seconds=(record["delay_min_seconds"], record["delay_max_seconds"]),
    )


class DiceStore:
    def __init__(self, dsn: str, seed: list[DieSpec], timeout: float, max_dice: int = 200) -> None:
        self.seed = seed
        self.max_dice = max_dice
        self.database = Database(dsn, timeout, prepare=self._create_schema)

    async def _create_schema(self, pool: asyncpg.Pool) -> None:
        async with pool.acquire() as connection, connection.transaction():
            await connection.execute(SCHEMA)
            if not await connection.fetchval("SELECT EXISTS (SELECT 1 FROM dice)"):
                await connection.executemany(
                    INSERT + " ON CONFLICT (name) DO NOTHING", [_row(s) for s in self.seed]
                )
                logger.info("seeded the dice table with %d dice", len(self.seed))

    async def connect(self) -> None:
        await self.database.connect()

    async def close(self) -> None:
        await self.database.close()

    async def all(self) -> list[DieSpec]:
        records = await self.database.run("fetch", SELECT + "ORDER BY created_at, name")
        return [spec_of(r) for r in records]  # type: ignore[union-attr]

    async def get(self, name: str) -> DieSpec | None:
        record = await self.database.run("fetchrow", SELECT + "WHERE name = $1", name)
        return spec_of(record) if record else None  # type: ignore[arg-type]

    async def add(self, spec: DieSpec) -> None:
        try:
            status = await self.database.run(
                "execute", INSERT_BELOW_CAP, *_row(spec), self.max_dice
            )
        except asyncpg.UniqueViolationError:
            raise DuplicateDie(spec.name) from None
        if status == "INSERT 0 0":
            raise StoreFull(f"the die-service already holds {self.max_dice} dice")
