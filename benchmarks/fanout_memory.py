"""Stage 4's /roll-async under a burst: memory and latency with the fan-out bound and without.

Each variant is a real stage 4 dice-roller and die-service on 127.0.0.1. The burst is `--clients`
concurrent GET /roll-async?die=risky&times=100 (the risky die is slow and fails sometimes); the
dice-roller's RSS is read from /proc before, at its peak during the burst, and a few seconds
after. "bounded" is the default (DICE_ROLLER_MAX_CONCURRENT_FANOUTS=16: past it a 503 with
Retry-After); "unbounded" raises the limit past the burst, which is how it behaved before.

    uv run --group bench python benchmarks/fanout_memory.py [--clients 200]
"""

import argparse
import asyncio
import socket
import statistics
import time

import httpx
from service_processes import rss_mib, start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def burst(url: str, clients: int, pid: int) -> dict:
    peak = rss_mib(pid)
    done = False

    async def watch() -> None:
        nonlocal peak
        while not done:
            peak = max(peak, rss_mib(pid))
            await asyncio.sleep(0.05)

    async def one(client: httpx.AsyncClient) -> tuple[int, float]:
        started = time.perf_counter()
        response = await client.get(url, timeout=120)
        return response.status_code, time.perf_counter() - started

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits) as client:
        watcher = asyncio.create_task(watch())
        results = await asyncio.gather(*(one(client) for _ in range(clients)))
        done = True
        await watcher
    statuses = [s for s, _ in results]
    return {
        "peak": peak,
        "ok": statuses.count(200),
        "busy": statuses.count(503),
        "p50": statistics.median(t for _, t in results),
    }


def run_variant(limit: int, clients: int) -> dict:
    die_port, roller_port = free_port(), free_port()
    die = start("stage4-die-service", {"DIE_SERVICE_PORT": str(die_port)}, die_port)
    roller = start(
        "stage4-dice-roller",
        {
            "DICE_ROLLER_PORT": str(roller_port),
            "DICE_ROLLER_DIE_SERVICE_URL": f"http://127.0.0.1:{die_port}",
            "DICE_ROLLER_MAX_CONCURRENT_FANOUTS": str(limit),
        },
        roller_port,
    )
    try:
        url = f"http://127.0.0.1:{roller_port}/roll-async?die=risky&times=100"
        httpx.get(url, timeout=60)  # warm: imports and the first connection
        idle = rss_mib(roller.pid)
        result = asyncio.run(burst(url, clients, roller.pid))
        time.sleep(3)
        return {**result, "idle": idle, "after": rss_mib(roller.pid)}
    finally:
        for process in (roller, die):
            process.terminate()
            process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    args = parser.parse_args()
    variants = {"bounded (16)": 16, "unbounded": 10 * args.clients}
    results = {name: run_variant(limit, args.clients) for name, limit in variants.items()}
    print(f"{args.clients} concurrent /roll-async?die=risky&times=100, stage 4 dice-roller")
    print(
        f"{'variant':<14} {'idle MiB':>9} {'peak MiB':>9} {'after MiB':>10} {'200':>5} "
        f"{'503':>5} {'p50 s':>7}"
    )
    for name, r in results.items():
        print(
            f"{name:<14} {r['idle']:>9.1f} {r['peak']:>9.1f} {r['after']:>10.1f} {r['ok']:>5} "
            f"{r['busy']:>5} {r['p50']:>7.2f}"
        )
    bounded, unbounded = results["bounded (16)"], results["unbounded"]
    growth = (bounded["peak"] - bounded["idle"]) / max(unbounded["peak"] - unbounded["idle"], 0.1)
    print(f"peak growth over idle, bounded / unbounded: {growth:.2f}")


if __name__ == "__main__":
    main()
