"""The run: N simulated users on one event loop, sharing one aiohttp session."""

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from traffic_gen.scenarios import Request, Scenario
from traffic_gen.stats import RunStats


class Unreachable(Exception):
    """The target does not answer; the message names the URL and how to start it."""


@dataclass
class RunPlan:
    users: int
    think_range: tuple[float, float]
    duration: float | None
    max_requests_per_user: int | None
    seed: int | None
    timeout: float


async def preflight(session: aiohttp.ClientSession, url: str, hint: str) -> aiohttp.ClientResponse:
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=3)) as response:
            await response.read()
            return response
    except (aiohttp.ClientError, TimeoutError):
        raise Unreachable(f"{url} is not answering; start it with `{hint}`") from None


class Run:
    def __init__(
        self, plan: RunPlan, scenario: Scenario, tracer: trace.Tracer | None = None
    ) -> None:
        self.plan = plan
        self.scenario = scenario
        self.tracer = tracer
        self.stats = RunStats()
        self.started = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    async def execute(
        self, health_url: str, hint: str, on_start: Callable[[], None] = lambda: None
    ) -> RunStats:
        # Connections sized to the users: each user has at most one request in flight.
        connector = aiohttp.TCPConnector(limit=self.plan.users, ttl_dns_cache=300)
        timeout = aiohttp.ClientTimeout(total=self.plan.timeout)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            await preflight(session, health_url, hint)
            if self.scenario.die_service_url:
                await self._load_dice(session, hint)
            on_start()
            self.started = time.perf_counter()
            users = [asyncio.create_task(self._user(session, n)) for n in range(self.plan.users)]
            try:
                await asyncio.gather(*users)
            except asyncio.CancelledError:
                # Ctrl-C: stop every user, keep what was counted, let the caller know.
                for task in users:
                    task.cancel()
                await asyncio.gather(*users, return_exceptions=True)
                raise
        return self.stats

    async def _load_dice(self, session: aiohttp.ClientSession, hint: str) -> None:
        url = f"{self.scenario.die_service_url}/dice"
        response = await preflight(session, url, hint)
        if response.status == 200:
            async with session.get(url) as again:
                self.scenario.dice = [d["name"] for d in (await again.json())["dice"]]

    async def _user(self, session: aiohttp.ClientSession, user: int) -> None:
        plan = self.plan
        seed = f"{plan.seed}:{user}" if plan.seed is not None else None
        rng = random.Random(seed)
        deadline = self.started + plan.duration if plan.duration else None
        low, high = plan.think_range
        sequence = 0
        while plan.max_requests_per_user is None or sequence < plan.max_requests_per_user:
            if deadline is not None and time.perf_counter() >= deadline:
                return
            request = self.scenario.next_request(rng, user, sequence)
            sequence += 1
            await self._send(session, request)
            think = rng.uniform(low, high)
            if think > 0:
                if deadline is not None:
                    think = min(think, max(0.0, deadline - time.perf_counter()))
                await asyncio.sleep(think)

    async def _send(self, session: aiohttp.ClientSession, request: Request) -> None:
        headers: dict[str, str] = {}
        span = None
        if self.tracer is not None:
            span = self.tracer.start_span(
                request.endpoint,
                kind=SpanKind.CLIENT,
                attributes={"http.request.method": request.method, "url.full": request.url},
            )
            # W3C traceparent, so the service's server span is this span's child.
            propagate.inject(headers, context=trace.set_span_in_context(span))
        start = time.perf_counter()
        status: int | str
        try:
            async with session.request(
                request.method, request.url, json=request.json, headers=headers
            ) as response:
                await response.read()
                status = response.status
        except TimeoutError:
            status = "timeout"
        except aiohttp.ClientError:
            status = "connection"
        self.stats.record(request.endpoint, status, time.perf_counter() - start)
        if span is not None:
            if isinstance(status, int):
                span.set_attribute("http.response.status_code", status)
            if not (isinstance(status, int) and status < 400):
                span.set_status(Status(StatusCode.ERROR, str(status)))
            span.end()
