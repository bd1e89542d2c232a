"""usage-scraper throughput: Loki-shaped pages into a real PostgreSQL, COPY vs batched INSERT.

Both variants run the scraper's own path (query_range's parsing, to_row, one transaction per
page with the position) and differ only in how rows reach usage_events. Interleaved round by
round; the median counts.

    uv run python benchmarks/scraper_throughput.py [--events 100000] [--rounds 3]
"""

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import asyncpg
import httpx
from usage_scraper.events import to_row
from usage_scraper.loki import query_range
from usage_scraper.store import COLUMNS, Inserted, Store

PAGE = 5000


def loki_page(first: int, size: int) -> dict:
    """A query_range answer as Loki gives it: two streams, JSON usage lines."""
    streams: dict[str, list] = {"dice-roller": [], "frontend": []}
    for n in range(first, first + size):
        service = "frontend" if n % 2 else "dice-roller"
        line = {
            "message": "roll",
            "service": service,
            "usage": True,
            "event": "roll",
            "attributes": {"n": n, "die": "fair", "value": n % 6 + 1},
        }
        streams[service].append([str(1_800_000_000_000_000_000 + n * 1000), json.dumps(line)])
    result = [
        {"stream": {"usage": "true", "service_name": s}, "values": v} for s, v in streams.items()
    ]
    return {"status": "success", "data": {"resultType": "streams", "result": result}}


class InsertStore(Store):
    """The alternative: executemany INSERT ... ON CONFLICT DO NOTHING, no COPY."""

    async def save(self, rows, query, position_ns):
        pool = await self._get_pool()
        names = ", ".join(COLUMNS)
        placeholders = ", ".join(f"${i}" for i in range(1, len(COLUMNS) + 1))
        async with pool.acquire() as connection, connection.transaction():
            await connection.executemany(
                f"INSERT INTO usage_events ({names}) VALUES ({placeholders})"  # noqa: S608
                " ON CONFLICT (event_key) DO NOTHING",
                [tuple(getattr(r, c) for c in COLUMNS) for r in rows],
            )
            await connection.execute(
                "INSERT INTO scraper_position VALUES ($1, $2, now()) ON CONFLICT (query)"
                " DO UPDATE SET position_ns = EXCLUDED.position_ns",
                query,
                position_ns,
            )
        return Inserted(events=len(rows))  # every row new: the benchmark starts empty


async def measure(store: Store, dsn: str, events: int) -> float:
    pages = [loki_page(first, PAGE) for first in range(0, events, PAGE)]
    bodies = iter(pages)
    transport = httpx.MockTransport(lambda _r: httpx.Response(200, json=next(bodies)))
    async with httpx.AsyncClient(base_url="http://loki", transport=transport) as client:
        await store._get_pool()
        started = time.perf_counter()
        for n in range(len(pages)):
            entries = await query_range(client, '{usage="true"}', 0, 1, PAGE)
            await store.save([to_row(e) for e in entries], '{usage="true"}', n)
        elapsed = time.perf_counter() - started
    connection = await asyncpg.connect(dsn)
    stored = await connection.fetchval("SELECT count(*) FROM usage_events")
    await connection.close()
    await store.close()
    assert stored == events, f"stored {stored} of {events}"
    return events / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    # The tests' throwaway-cluster helper, from the repository root.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.support.postgres import create_cluster, postgres_bin

    bin_dir = postgres_bin()
    if bin_dir is None:
        sys.exit("bench: PostgreSQL not found (apt-get install postgresql)")
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cluster = create_cluster(bin_dir, port)
    variants = {"copy (the scraper)": Store, "executemany insert": InsertStore}
    results: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for round_ in range(args.rounds):
            for name, kind in variants.items():
                dsn = cluster.create_database(
                    f"bench_{round_}_{len(results[name])}_{kind.__name__.lower()}"
                )
                results[name].append(asyncio.run(measure(kind(dsn), dsn, args.events)))
    finally:
        cluster.remove()
    print(f"{args.events} events in pages of {PAGE}, {args.rounds} rounds, median events/s")
    for name, values in results.items():
        print(
            f"  {name:20} {statistics.median(values):9.0f}  rounds: "
            + ", ".join(f"{v:.0f}" for v in values)
        )
    copy, insert = (statistics.median(v) for v in results.values())
    print(f"  copy/insert: {copy / insert:.2f}")


if __name__ == "__main__":
    main()
