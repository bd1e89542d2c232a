"""Stage 5: die specifications in a real PostgreSQL; 503 and recovery when it is down. Its db
spans and the add_die usage event: the signal matrix (test_stage_signals.py)."""

import subprocess

import httpx
import pytest
from lab_telemetry.testing import OtlpReceiver, poll_until

from tests.support.ports import free_port
from tests.support.processes import run_entry_point

TRACING = {"OTEL_BSP_SCHEDULE_DELAY": "100"}
NEW_DIE = {"name": "d8", "faces": [1, 2, 3, 4, 5, 6, 7, 8], "failure_rate": 0.0}


def psql(dsn: str, sql: str) -> str:
    result = subprocess.run(
        ["psql", dsn, "-v", "ON_ERROR_STOP=1", "-tAc", sql],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return result.stdout.strip()


@pytest.fixture
def start_die_service(start_service, otlp_receiver: OtlpReceiver):
    def start(dsn: str, **settings: str):
        port = free_port()
        env = {
            "DIE_SERVICE_PORT": str(port),
            "DIE_SERVICE_DATABASE_URL": dsn,
            "DIE_SERVICE_DATABASE_TIMEOUT_SECONDS": "2",
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
            **TRACING,
            **{f"DIE_SERVICE_{name.upper()}": value for name, value in settings.items()},
        }
        return start_service("stage5-die-service", env, port)

    return start


def test_a_fresh_database_gets_the_schema_and_seed_and_specs_come_from_it(
    start_die_service, database
) -> None:
    die_service = start_die_service(database)
    names = [d["name"] for d in httpx.get(f"{die_service.base_url}/dice").json()["dice"]]
    assert {"fair", "risky", "loaded"} <= set(names)
    # Changed in the database, changed in the answer: the service reads PostgreSQL, not a file.
    psql(database, "UPDATE dice SET failure_rate = 0.25 WHERE name = 'fair'")
    assert httpx.get(f"{die_service.base_url}/dice/fair").json()["failure_rate"] == 0.25


def test_post_dice_validates_and_refuses_duplicates(start_die_service, database) -> None:
    die_service = start_die_service(database)
    created = httpx.post(f"{die_service.base_url}/dice", json=NEW_DIE)
    assert created.status_code == 201
    assert httpx.get(f"{die_service.base_url}/dice/d8").json()["faces"] == NEW_DIE["faces"]
    assert psql(database, "SELECT faces FROM dice WHERE name = 'd8'") == "{1,2,3,4,5,6,7,8}"

    duplicate = httpx.post(f"{die_service.base_url}/dice", json=NEW_DIE)
    assert duplicate.status_code == 409
    assert duplicate.json()["detail"] == "a die named 'd8' already exists"

    for bad in (
        {**NEW_DIE, "name": "w", "weights": [1, 2]},
        {**NEW_DIE, "name": "one", "faces": [1]},
        {**NEW_DIE, "name": "Bad Name"},
        {"faces": [1, 2]},
        # Each of these was stored, or a 500: a face past PostgreSQL's integer, weights whose
        # sum is infinite, a weight that is not a number.
        {**NEW_DIE, "name": "big", "faces": [1, 2147483648]},
        {**NEW_DIE, "name": "huge", "faces": [1, 2], "weights": [1e308, 1e308]},
        {**NEW_DIE, "name": "x" * 33},
    ):
        response = httpx.post(f"{die_service.base_url}/dice", json=bad)
        assert response.status_code == 422, bad
        assert response.json()["detail"], bad
    # Python's json module reads Infinity; it was stored, then served back as null.
    infinite = httpx.post(
        f"{die_service.base_url}/dice",
        content='{"name": "inf", "faces": [1, 2], "weights": [Infinity, 1]}',
        headers={"Content-Type": "application/json"},
    )
    assert infinite.status_code == 422
    assert infinite.json()["detail"][0]["loc"] == ["body", "weights", 0]
    weights = httpx.post(
        f"{die_service.base_url}/dice", json={**NEW_DIE, "name": "w", "weights": [1]}
    )
    assert "weights has 1 values but faces has 8" in str(weights.json()["detail"])


def test_a_wrong_method_names_every_method_the_resource_has(start_die_service, database) -> None:
    die_service = start_die_service(database)
    response = httpx.request("DELETE", f"{die_service.base_url}/dice")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"  # Starlette alone said "GET"


def test_the_stored_dice_are_capped(start_die_service, database) -> None:
    die_service = start_die_service(database, max_dice="6")  # the seed holds 5
    assert httpx.post(f"{die_service.base_url}/dice", json=NEW_DIE).status_code == 201
    refused = httpx.post(f"{die_service.base_url}/dice", json={**NEW_DIE, "name": "d9"})
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "the die-service already holds 6 dice; this lab keeps no more"
    )
    assert psql(database, "SELECT count(*) FROM dice") == "6"


def test_database_down_is_503_and_it_recovers_without_a_restart(
    start_die_service, own_postgres
) -> None:
    dsn = own_postgres.create_database("dice")
    die_service = start_die_service(dsn)
    url = f"{die_service.base_url}/dice/fair"
    assert httpx.get(url).status_code == 200

    own_postgres.stop()
    down = poll_until(
        lambda: (r := httpx.get(url, timeout=10)).status_code == 503 and r, timeout=30
    )
    assert down.json()["detail"] == "the dice database is not answering; try again shortly"
    assert down.headers["retry-after"] == "5"
    assert httpx.get(f"{die_service.base_url}/healthz").status_code == 200  # the process lives

    own_postgres.start()
    poll_until(lambda: httpx.get(url, timeout=10).status_code == 200, timeout=30, what="recovery")
    assert die_service.process.poll() is None


def test_starting_while_the_database_is_down_works_once_it_is_up(
    start_die_service, own_postgres
) -> None:
    dsn = own_postgres.create_database("dice")
    own_postgres.stop()
    die_service = start_die_service(dsn)
    assert httpx.get(f"{die_service.base_url}/dice", timeout=10).status_code == 503
    own_postgres.start()
    poll_until(lambda: httpx.get(f"{die_service.base_url}/dice", timeout=10).status_code == 200)


def test_a_missing_database_url_is_one_line() -> None:
    result = run_entry_point("stage5-die-service", {})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "stage5-die-service: invalid setting DIE_SERVICE_DATABASE_URL: Field required"
    ]


def test_frontend_adds_a_die_and_offers_it(
    start_service, start_die_service, start_frontend, database, browser_page
):
    die_service = start_die_service(database)
    roller_port = free_port()
    roller = start_service(
        "stage5-dice-roller",
        {"DICE_ROLLER_PORT": str(roller_port), "DICE_ROLLER_DIE_SERVICE_URL": die_service.base_url},
        roller_port,
    )
    page = browser_page
    page.goto(start_frontend(5, roller, die_service))
    page.get_by_label("Name").fill("d4")
    page.get_by_label("Faces").fill("1, 2, 3, 4")
    page.get_by_role("button", name="Add die").click()
    page.get_by_text("Added the die 'd4'.").wait_for()
    page.get_by_text("d4", exact=True).click()  # offered at once
    page.get_by_role("button", name="Roll", exact=True).click()
    page.get_by_text("The d4 die rolled").wait_for()

    page.get_by_role("button", name="Add die").click()  # the same name again
    page.get_by_text("The die-service refused it (409): a die named 'd4' already exists").wait_for()
    page.get_by_label("Faces").fill("one, two")
    page.get_by_role("button", name="Add die").click()
    page.get_by_text("Faces are whole numbers").wait_for()
