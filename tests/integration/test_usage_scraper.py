"""usage-scraper against a real PostgreSQL and a stand-in for Loki's query_range API."""

import asyncio
import json
import random
import re
import time

import httpx
import pytest
from lab_telemetry import Metrics
from lab_telemetry.testing import poll_until
from usage_scraper.loki import LokiError
from usage_scraper.scraper import Scraper, ScraperMetrics
from usage_scraper.settings import ScraperSettings
from usage_scraper.store import Store

from tests.support.fake_loki import FakeLoki
from tests.support.paths import REPO
from tests.support.ports import free_port
from tests.support.processes import run_entry_point

NOW = 1_800_000_000 * 10**9  # a fixed "now": the window ends at NOW minus the safety lag
LABELS = {"usage": "true", "service_name": "dice-roller", "compose_project": "stage-1"}


@pytest.fixture
def loki(fake_loki):
    return fake_loki


def usage_line(n: int, service: str = "dice-roller") -> str:
    return json.dumps(
        {
            "message": "roll",
            "service": service,
            "usage": True,
            "event": "roll",
            "attributes": {"n": n, "die": "fair"},
        }
    )


def burst(loki: FakeLoki, total: int = 12_000, shared: int = 3_000, now: int = NOW) -> None:
    """`total` events in one window, `shared` of them at one nanosecond, over two streams."""
    start = now - 60 * 10**9
    for n in range(total):
        ts = start + 10**9 if n < shared else start + n * 1_000
        labels = {**LABELS, "service_name": "frontend" if n % 2 else "dice-roller"}
        loki.push(labels, ts, usage_line(n))


def settings(loki: FakeLoki, dsn: str, **overrides) -> ScraperSettings:
    values = {
        "loki_url": loki.url,
        "database_url": dsn,
        "lookback_minutes": 5,
        "safety_lag_seconds": 10,
        "batch_size": 5000,
        "request_timeout_seconds": 1,
        "poll_interval_seconds": 0.1,
        "max_backoff_seconds": 0.2,
        **overrides,
    }
    return ScraperSettings(**values)


async def rows(dsn: str, sql: str = "SELECT count(*), count(DISTINCT event_key) FROM usage_events"):
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        return tuple(await connection.fetchrow(sql))
    except asyncpg.UndefinedTableError:
        return (0, 0)  # the scraper has not created its schema yet
    finally:
        await connection.close()


def scrape(loki: FakeLoki, dsn: str, store: Store | None = None, **overrides) -> ScraperMetrics:
    """One poll, as the service would do it, with a clock fixed at NOW."""
    metrics = ScraperMetrics(Metrics())

    async def run() -> None:
        async with httpx.AsyncClient(base_url=loki.url, timeout=1) as client:
            the_store = store or Store(dsn)
            scraper = Scraper(
                settings(loki, dsn, **overrides), the_store, client, metrics, lambda: NOW
            )
            try:
                await scraper.poll_once()
            finally:
                await the_store.close()

    asyncio.run(run())
    return metrics


def value(counter) -> float:
    return counter._value.get()


def test_a_burst_over_the_page_cap_with_3000_at_one_timestamp_is_stored_once(loki, database):
    burst(loki)
    metrics = scrape(loki, database)
    assert asyncio.run(rows(database)) == (12_000, 12_000)
    assert value(metrics.stored) == 12_000
    # Pages were capped at 5,000 and each started at the previous page's last timestamp.
    starts = [int(r["start"]) for r in loki.requests]
    assert len(starts) >= 3 and starts == sorted(starts)
    assert all(int(r["limit"]) == 5000 and r["direction"] == "forward" for r in loki.requests)


def test_the_same_window_twice_stores_nothing_twice(loki, database):
    burst(loki, total=3000, shared=500)
    scrape(loki, database)

    async def forget_position() -> None:
        import asyncpg

        connection = await asyncpg.connect(database)
        await connection.execute("DELETE FROM scraper_position")
        await connection.close()

    asyncio.run(forget_position())
    again = scrape(loki, database)
    assert value(again.stored) == 0 and value(again.duplicates) == 3000
    assert asyncio.run(rows(database)) == (3000, 3000)


class CrashingStore(Store):
    """Dies (like a killed process) after storing `pages` pages."""

    def __init__(self, dsn: str, pages: int) -> None:
        super().__init__(dsn)
        self.pages = pages

    async def save(self, rows, query, position_ns):
        if self.pages == 0:
            raise SystemExit("killed mid-run")
        self.pages -= 1
        return await super().save(rows, query, position_ns)


def test_a_restart_mid_run_leaves_no_gap_and_no_duplicate(loki, database):
    burst(loki)
    with pytest.raises(SystemExit):
        scrape(loki, database, store=CrashingStore(database, pages=1))
    stored_before = asyncio.run(rows(database))[0]
    assert 0 < stored_before < 12_000
    scrape(loki, database)  # a new process, from the saved position
    assert asyncio.run(rows(database)) == (12_000, 12_000)


def test_loki_failing_and_timing_out_then_recovering_loses_nothing(loki, database):
    burst(loki, total=6000, shared=100)
    loki.fail_next, loki.slow_next, loki.slow_seconds = 3, 2, 1.5
    metrics = ScraperMetrics(Metrics())

    async def run() -> None:
        store = Store(database)
        async with httpx.AsyncClient(base_url=loki.url, timeout=1) as client:
            scraper = Scraper(settings(loki, database), store, client, metrics, lambda: NOW)
            task = asyncio.create_task(scraper.run_forever())
            for _ in range(200):
                if (await rows(database))[0] == 6000:
                    break
                await asyncio.sleep(0.1)
            task.cancel()
        await store.close()

    asyncio.run(run())
    assert asyncio.run(rows(database)) == (6000, 6000)
    assert value(metrics.failures.labels("loki")) == 5  # three 500s, two timeouts


def test_malformed_lines_are_counted_and_kept_raw_and_the_page_is_stored(loki, database):
    good = [usage_line(n) for n in range(5)]
    bad = ["not json {", '["a", "list"]', json.dumps({"usage": True, "message": "no event"})]
    for n, line in enumerate(good + bad):
        loki.push(LABELS, NOW - 30 * 10**9 + n, line)
    metrics = scrape(loki, database)
    assert value(metrics.bad_lines) == 3 and value(metrics.stored) == 5
    reasons = asyncio.run(
        rows(
            database,
            "SELECT array_agg(bad_reason ORDER BY bad_reason) FROM usage_events"
            " WHERE bad_reason IS NOT NULL",
        )
    )[0]
    assert reasons == ["no event name", "not a JSON object", "not valid JSON"]
    events = asyncio.run(
        rows(
            database,
            "SELECT count(*) FROM usage_events WHERE event = 'roll'"
            " AND service = 'dice-roller' AND attributes ? 'die'",
        )
    )
    assert events == (5,)


def test_structured_metadata_values_and_an_empty_window(loki, database):
    loki.push(LABELS, NOW - 20 * 10**9, usage_line(1), metadata={"trace_id": "ab" * 16})
    assert value(scrape(loki, database).stored) == 1
    assert value(scrape(loki, database).stored) == 0  # nothing new: the position moved to the end


def test_an_answer_not_in_lokis_format_is_a_loki_error(database):
    from usage_scraper.loki import query_range

    async def ask(body: dict) -> None:
        transport = httpx.MockTransport(lambda _request: httpx.Response(200, json=body))
        async with httpx.AsyncClient(base_url="http://loki", transport=transport) as client:
            await query_range(client, "{}", 0, 1, 10)

    for body in ({"data": {"resultType": "matrix", "result": []}}, {"status": "success"}):
        with pytest.raises(LokiError):
            asyncio.run(ask(body))


def test_postgres_stopped_and_restarted_mid_batch_loses_and_duplicates_nothing(
    loki, own_postgres, start_service
):
    dsn = own_postgres.create_database("usage_stats")
    burst(loki, total=12_000, shared=1000, now=time.time_ns())  # the process reads the real clock
    loki.slow_next, loki.slow_seconds = 10**6, 0.3  # every page takes a while: time to stop PG
    port = free_port()
    service = start_service(
        "usage-scraper",
        {
            "USAGE_SCRAPER_PORT": str(port),
            "LOKI_URL": loki.url,
            "USAGE_SCRAPER_DATABASE_URL": dsn,
            "LOOKBACK_MINUTES": "5",
            "SAFETY_LAG_SECONDS": "0",
            "BATCH_SIZE": "1000",
            "POLL_INTERVAL_SECONDS": "0.2",
            "USAGE_SCRAPER_MAX_BACKOFF_SECONDS": "0.5",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        },
        port,
    )

    def metric(name: str) -> float:
        text = httpx.get(f"{service.base_url}/metrics", timeout=5).text
        found = re.search(rf"^{re.escape(name)} ([\d.e+]+)$", text, re.MULTILINE)
        return float(found.group(1)) if found else 0.0

    poll_until(lambda: metric("usage_scraper_events_stored_total") > 0, timeout=30)
    own_postgres.stop()
    poll_until(
        lambda: metric('usage_scraper_failures_total{dependency="postgres"}') > 0, timeout=30
    )
    own_postgres.start()
    poll_until(lambda: asyncio.run(rows(dsn))[0] == 12_000, timeout=60, what="every event stored")
    assert asyncio.run(rows(dsn)) == (12_000, 12_000)
    assert service.process.poll() is None  # it kept running
    assert service.wait_for_log(level="WARNING", dependency="postgres")


def test_the_stack_init_script_and_the_scraper_agree_on_the_schema() -> None:
    def statements(sql: str) -> list[str]:
        body = "\n".join(line for line in sql.splitlines() if not line.startswith("--"))
        return [" ".join(s.split()) for s in body.split(";") if s.strip()]

    init = (REPO / "compose/stack/postgres/init.sql").read_text()
    schema = (REPO / "packages/usage-scraper/src/usage_scraper/schema.sql").read_text()
    assert statements(init) == statements(schema)


def test_a_missing_database_url_is_one_line() -> None:
    result = run_entry_point("usage-scraper", {})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "usage-scraper: invalid setting DATABASE_URL: Field required"
    ]


def test_the_usage_dashboards_sql_runs_on_the_schema(loki, database) -> None:
    """Each SQL panel, with Grafana's macros expanded as Grafana would, returns the events."""
    for n in range(20):
        loki.push(LABELS, NOW - 40 * 10**9 + n, usage_line(n))
    loki.push(LABELS, NOW - 40 * 10**9 + 99, "not json {")
    scrape(loki, database)
    dashboard = json.loads((REPO / "compose/stack/grafana/dashboards/usage.json").read_text())
    queries = [
        (panel["title"], target["rawSql"])
        for panel in dashboard["panels"]
        for target in panel["targets"]
        if target["datasource"]["uid"] == "usage-postgres"
    ]
    assert len(queries) == 4
    window = "event_time BETWEEN '2020-01-01' AND '2030-01-01'"
    for title, sql in queries:
        expanded = re.sub(r"\$__timeFilter\((\w+)\)", window, sql)
        expanded = re.sub(
            r"\$__timeGroupAlias\((\w+), '1m'\)", r"date_trunc('minute', \1) AS time", expanded
        )
        assert "$__" not in expanded, title
        result = asyncio.run(rows(database, f"SELECT count(*) FROM ({expanded}) AS panel"))  # noqa: S608 (the dashboard's own SQL)
        assert result[0] >= 1, title


def junk_lines() -> list[str]:
    """Lines a poison-record hunt would try: each was, or could be, a page PostgreSQL refuses."""
    rng = random.Random(7)
    lines = [
        json.dumps({"usage": True, "event": "roll", "attributes": {"note": "a\u0000b"}}),
        '{"usage": true, "event": "roll", "attributes": {"x": "\\u0000"}}',
        "raw NUL \x00 in the line",
        '{"usage": true, "event": "roll", "attributes": {"n": 1e999}}',  # Infinity in Python
        '{"usage": true, "event": "roll", "attributes": {"n": NaN}}',
        '{"usage": true, "event": "roll", "attributes": {"s": "\\ud800"}}',  # a lone surrogate
        "[" * 100_000,  # deeper than Python's JSON parser goes
        json.dumps({"usage": True, "event": "big", "attributes": {"x": "y" * 300_000}}),
        "",
    ]
    for _ in range(40):
        length = rng.randint(1, 200)
        lines.append(
            "".join(
                chr(rng.choice((0, 9, 10, 34, 92, 123, rng.randint(1, 0x2FFF))))
                for _ in range(length)
            )
        )
    return lines


def test_poison_lines_are_stored_raw_as_bad_and_the_copy_goes_on(loki, database):
    # One usage event holding "\u0000" used to stop the copy for good: 0 of 201 stored.
    good = [usage_line(n) for n in range(200)]
    junk = junk_lines()
    lines = good[:100] + junk + good[100:]
    for n, line in enumerate(lines):
        loki.push(LABELS, NOW - 50 * 10**9 + n * 1000, line)
    metrics = scrape(loki, database)
    total, distinct = asyncio.run(rows(database))
    assert (total, distinct) == (len(lines), len(lines))  # nothing lost, nothing twice
    assert value(metrics.stored) == len(good)  # usage events only: bad lines are counted apart
    assert value(metrics.bad_lines) == len(junk)
    (events,) = asyncio.run(
        rows(
            database,
            "SELECT count(*) FROM usage_events WHERE event = 'roll' AND bad_reason IS NULL",
        )
    )
    assert events == 200
    (nul,) = asyncio.run(
        rows(database, "SELECT bad_reason FROM usage_events WHERE raw_line LIKE 'raw NUL%'")
    )
    assert "NUL" in nul
    assert value(scrape(loki, database).stored) == 0  # read again: nothing twice


def test_a_row_postgresql_refuses_anyway_is_stored_as_bad_with_its_reason(database):
    from usage_scraper.events import Row

    def row(key: bytes, raw: str) -> Row:
        from datetime import UTC, datetime

        return Row(key, datetime.now(UTC), "svc", "roll", "{}", "{}", raw, None)

    async def run() -> int:
        store = Store(database)
        try:
            # A NUL in text reaches PostgreSQL only if to_row() missed it: the page still goes in.
            return await store.save([row(b"1", "fine"), row(b"2", "bad \x00 text")], "q", 1)
        finally:
            await store.close()

    assert asyncio.run(run()) == (1, 1)  # one usage event, one bad line
    (reason,) = asyncio.run(
        rows(database, "SELECT bad_reason FROM usage_events WHERE event_key = '\\x32'")
    )
    assert reason.startswith("PostgreSQL refused it:")


def test_a_wrong_password_is_an_unhealthy_service_that_recovers_without_a_restart(
    loki, postgres_cluster, start_service
):
    from tests.support.postgres import PASSWORD, USER

    dsn = postgres_cluster.create_database(f"usage_pw_{free_port()}")
    role = f"scraper_{free_port()}"
    grant = f"CREATE ROLE {role} LOGIN PASSWORD 'right'; GRANT ALL ON SCHEMA public TO {role}"
    asyncio.run(asyncpg_execute(dsn, grant))
    for n in range(20):
        loki.push(LABELS, time.time_ns() - 20 * 10**9 + n, usage_line(n))
    port = free_port()
    wrong = dsn.replace(f"{USER}:{PASSWORD}", f"{role}:wrong")
    service = start_service(
        "usage-scraper",
        {
            "USAGE_SCRAPER_PORT": str(port),
            "LOKI_URL": loki.url,
            "USAGE_SCRAPER_DATABASE_URL": wrong,
            "LOOKBACK_MINUTES": "5",
            "SAFETY_LAG_SECONDS": "0",
            "POLL_INTERVAL_SECONDS": "0.2",
            "USAGE_SCRAPER_MAX_BACKOFF_SECONDS": "0.3",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        },
        port,
        ready_path="/metrics",
    )

    def health() -> httpx.Response:
        return httpx.get(f"{service.base_url}/healthz", timeout=5)

    unhealthy = poll_until(lambda: (r := health()).status_code == 503 and r, timeout=30)
    detail = unhealthy.json()["detail"]
    assert detail.startswith(f"PostgreSQL at 127.0.0.1:{postgres_cluster.port}: "), detail
    assert "password authentication failed" in detail
    error = service.wait_for_log(level="ERROR", dependency="unexpected")
    assert "password authentication failed" in error["message"]
    assert service.process.poll() is None

    asyncio.run(asyncpg_execute(dsn, f"ALTER ROLE {role} PASSWORD 'wrong'"))
    poll_until(
        lambda: asyncio.run(rows(dsn))[0] == 20, timeout=30, what="events once the password fits"
    )
    poll_until(lambda: health().status_code == 200, timeout=30, what="healthy again")


async def asyncpg_execute(dsn: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOOKBACK_MINUTES", "inf"),
        ("POLL_INTERVAL_SECONDS", "nan"),
        ("USAGE_SCRAPER_PORT", "70000"),
    ],
)
def test_settings_that_would_stop_or_misdirect_the_copy_are_refused_at_start(name, value) -> None:
    result = run_entry_point(
        "usage-scraper", {"DATABASE_URL": "postgresql://u:p@127.0.0.1:1/x", name: value}
    )
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"usage-scraper: invalid setting {name}:"), line


def test_each_poll_is_a_span_and_its_log_line_carries_the_trace_id(
    loki, database, start_service, otlp_receiver
) -> None:
    for n in range(5):
        loki.push(LABELS, time.time_ns() - 20 * 10**9 + n, usage_line(n))
    port = free_port()
    service = start_service(
        "usage-scraper",
        {
            "USAGE_SCRAPER_PORT": str(port),
            "LOKI_URL": loki.url,
            "USAGE_SCRAPER_DATABASE_URL": database,
            "LOOKBACK_MINUTES": "5",
            "SAFETY_LAG_SECONDS": "0",
            "POLL_INTERVAL_SECONDS": "0.5",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        },
        port,
    )
    stored = service.wait_for_log(message="stored 5 usage events")
    polls = poll_until(lambda: otlp_receiver.find(service="usage-scraper", name="poll"))
    (poll,) = [p for p in polls if p.trace_id == stored["trace_id"]]
    assert poll.attributes["usage_scraper.rows_stored"] == 5
    assert stored["span_id"] == poll.span_id


def unhealthy_detail(start_service, loki_url: str, dsn: str) -> tuple[str, str]:
    """The /healthz 503 detail of a scraper whose polls fail, and everything it printed."""
    port = free_port()
    service = start_service(
        "usage-scraper",
        {
            "USAGE_SCRAPER_PORT": str(port),
            "LOKI_URL": loki_url,
            "USAGE_SCRAPER_DATABASE_URL": dsn,
            "POLL_INTERVAL_SECONDS": "0.2",
            "USAGE_SCRAPER_MAX_BACKOFF_SECONDS": "0.3",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "",
        },
        port,
        ready_path="/metrics",
    )
    url = f"{service.base_url}/healthz"
    unhealthy = poll_until(lambda: (r := httpx.get(url, timeout=5)).status_code == 503 and r)
    assert service.process.poll() is None
    return unhealthy.json()["detail"], service.stdout() + service.stderr()


def test_healthz_names_loki_and_where_it_is_when_loki_is_unreachable(
    database, start_service
) -> None:
    from tests.support.postgres import PASSWORD

    loki_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    detail, output = unhealthy_detail(start_service, loki_url, database)
    assert detail.startswith(f"Loki at {loki_url} unreachable: "), detail
    assert "PostgreSQL" not in detail
    assert PASSWORD not in detail and PASSWORD not in output


def test_healthz_names_postgresql_and_where_it_is_without_the_password(loki, start_service) -> None:
    password = "never-shown-pw"  # a made-up one, for the test to look for
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    dsn = f"postgresql://lab:{password}@{address}/usage_stats"
    detail, output = unhealthy_detail(start_service, loki.url, dsn)
    assert detail.startswith(f"PostgreSQL at {address} unreachable: "), detail
    assert "Loki" not in detail
    assert password not in detail and password not in output
