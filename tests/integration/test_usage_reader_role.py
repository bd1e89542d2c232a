"""Grafana's usage datasource role, made by the stack's init scripts, on a real PostgreSQL.

Grafana lets anonymous visitors query datasources through its API, so whatever the datasource's
role can do, anyone who can open Grafana can: it must only read the usage tables.
"""

import os
import subprocess

import pytest

from tests.config.repo_files import DATASOURCES, REPO, load_yaml
from tests.support.postgres import PASSWORD, USER

INIT = REPO / "compose/stack/postgres"
READER_PASSWORD = "reader-test-password"


def psql(dsn: str, sql: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["psql", dsn, "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "-tAc", sql],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.fixture
def usage_stats(own_postgres) -> tuple[str, str]:
    """A fresh cluster's usage_stats made as the postgres image would: init.sql, then reader.sh.

    (DSN as the owner, DSN as the reader.) Its own cluster, since roles are cluster-wide.
    """
    owner = own_postgres.create_database("usage_stats")
    assert psql(owner, (INIT / "init.sql").read_text()).returncode == 0
    env = {
        **os.environ,
        "POSTGRES_USER": USER,
        "POSTGRES_DB": "usage_stats",
        "USAGE_READER_PASSWORD": READER_PASSWORD,
        "PGHOST": "127.0.0.1",
        "PGPORT": str(own_postgres.port),
        "PGPASSWORD": PASSWORD,
    }
    script = subprocess.run(
        ["bash", str(INIT / "reader.sh")], env=env, capture_output=True, text=True, timeout=60
    )
    assert script.returncode == 0, script.stderr
    reader = owner.replace(f"{USER}:{PASSWORD}", f"usage_reader:{READER_PASSWORD}")
    psql(
        owner,
        "INSERT INTO usage_events (event_key, event_time, service, labels, raw_line)"
        " VALUES ('\\x01', now(), 'dice-roller', '{}', '{}')",
    )
    psql(
        owner,
        "CREATE SCHEMA other; CREATE TABLE other.secrets (s text);"
        " INSERT INTO other.secrets VALUES ('x'); CREATE TABLE public.extra (s text)",
    )
    return owner, reader


def test_the_datasource_logs_in_as_the_reader() -> None:
    (usage,) = [d for d in load_yaml(DATASOURCES)["datasources"] if d["uid"] == "usage-postgres"]
    assert usage["user"] == "usage_reader"


def test_the_reader_reads_the_usage_tables(usage_stats) -> None:
    _, reader = usage_stats
    result = psql(reader, "SELECT service FROM usage_events")
    assert (result.returncode, result.stdout.strip()) == (0, "dice-roller"), result.stderr
    assert psql(reader, "SELECT count(*) FROM scraper_position").returncode == 0


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO usage_events (event_key, event_time, service, labels, raw_line)"
        " VALUES ('\\x02', now(), 'x', '{}', 'x')",
        "DELETE FROM usage_events",
        "UPDATE scraper_position SET position_ns = 0",
        "CREATE TABLE public.mine (a int)",
        "DROP TABLE usage_events",
        "SELECT * FROM other.secrets",
        "SELECT * FROM public.extra",
        "CREATE ROLE escalate SUPERUSER",
        "COPY usage_events TO '/tmp/out'",
    ],
)
def test_the_reader_cannot_write_or_read_elsewhere(usage_stats, sql: str) -> None:
    owner, reader = usage_stats
    result = psql(reader, sql)
    assert result.returncode != 0, f"the reader ran: {sql}"
    refusals = ("permission denied", "read-only transaction", "must be superuser")
    assert any(refusal in result.stderr for refusal in refusals), result.stderr
    assert psql(owner, "SELECT count(*) FROM usage_events").stdout.strip() == "1"
