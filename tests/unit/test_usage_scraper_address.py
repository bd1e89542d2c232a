"""Where the usage-scraper's /healthz and log lines say PostgreSQL is: host and port only."""

import pytest
from usage_scraper.store import address


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        ("postgresql://lab:s3cret@postgres:5432/usage_stats", "postgres:5432"),
        ("postgresql://lab:s3cret@postgres/usage_stats", "postgres:5432"),
        ("postgresql://lab:s3cret@[::1]:5433/usage_stats", "[::1]:5433"),
        ("postgresql://lab:s3c@ret@db:6432/usage_stats", "db:6432"),
        # A password URL syntax cuts short, several hosts, no host: no address is better than
        # part of a password.
        ("postgresql://lab:12/s3cret@db/usage_stats", "the host in DATABASE_URL"),
        ("postgresql://lab:s3cret@db1:5432,db2:5432/usage_stats", "the host in DATABASE_URL"),
        ("postgresql:///usage_stats", "the host in DATABASE_URL"),
    ],
)
def test_the_address_of_a_database_url_never_shows_its_password(dsn: str, shown: str) -> None:
    assert address(dsn) == shown
    assert "s3c" not in address(dsn) and "lab" not in address(dsn)
