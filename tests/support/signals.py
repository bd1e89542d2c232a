"""The signal matrix: what each tutorial stage's services emit, as a table.

SIGNALS["stage-3"]["dice-roller"] says, for that service run as its stage runs it (with
`settings`, and the die-service's dice plus `extra_dice`), and given `calls` (and, for a frontend,
the page `actions` of tests/integration/test_stage_signals.py): how each call is answered, which
metrics its /metrics shows, which spans reach an OTLP receiver (with their parent, where `parent`
says), and which JSON log lines it writes (with the span they are written in, where `in_span`
says). Each stage's services are the stage before's with what its chapter adds (`extended`), as
the packages are. Everything listed is what the code emits; the test fails on any that is missing.

In an expected value, `ANY` matches whatever is there (the key must be), a compiled pattern
matches a string it finds in the value, and a dict matches a dict holding at least its keys.
"""

import re
from dataclasses import dataclass, replace
from typing import Any
from unittest.mock import ANY

# OTLP's span kinds.
INTERNAL, SERVER, CLIENT = 1, 2, 3


@dataclass(frozen=True)
class Call:
    """A request the test sends to the service, and the answer it must get."""

    method: str
    path: str
    status: int = 200
    json: dict | None = None
    detail: str | None = None  # in the error body's "detail"


@dataclass(frozen=True)
class Metric:
    """A sample on /metrics: its name as exposed, labels (ANY: whatever value) and value."""

    name: str
    labels: dict[str, Any]
    value: float | None = None


@dataclass(frozen=True)
class Parent:
    service: str
    name: str


ROOT = Parent("", "")  # the span starts its trace


@dataclass(frozen=True)
class Span:
    name: str
    kind: int
    parent: Parent | None = None  # None: not asserted
    attributes: dict[str, Any] | None = None
    absent: tuple[str, ...] = ()  # attributes it must not carry (the old naming dialect)
    error: bool = False
    min_seconds: float = 0


@dataclass(frozen=True)
class Log:
    """A JSON log line with these fields, written inside the service's span named `in_span`."""

    fields: dict[str, Any]
    in_span: str | None = None


@dataclass(frozen=True)
class ServiceSignals:
    settings: dict[str, str]
    calls: tuple[Call, ...] = ()
    actions: tuple[str, ...] = ()
    metrics: tuple[Metric, ...] = ()
    spans: tuple[Span, ...] = ()
    logs: tuple[Log, ...] = ()
    # A die-service's dice: the packaged ones and these (its seed, from stage 5 on).
    extra_dice: tuple[dict, ...] = ()
    # The die-service's own PostgreSQL database (stage 5 on), created for the run.
    database: str | None = None

    def extended(self, **more: Any) -> "ServiceSignals":
        """The stage before's service with more of everything (settings replaced, where given)."""
        changes = {
            key: (getattr(self, key) + value if isinstance(value, tuple) else value)
            for key, value in more.items()
        }
        return replace(self, **changes)


def http_metrics(handler: str, method: str = "GET", status: str = "2xx") -> tuple[Metric, ...]:
    """lab-telemetry's HTTP metrics of a route, by its template."""
    return (
        Metric("http_requests_total", {"handler": handler, "method": method, "status": status}),
        Metric(
            "http_request_duration_seconds_bucket",
            {"handler": handler, "method": method, "le": ANY},
        ),
    )


def operation_spans(server: str, service: str) -> tuple[Span, ...]:
    """FastAPI's operation spans under each server span: where the handler spends its time."""
    return tuple(
        Span(name, INTERNAL, parent=Parent(service, server))
        for name in ("fastapi.dependencies", "fastapi.endpoint", "fastapi.serialization")
    )


def usage(event: str, **attributes: Any) -> dict[str, Any]:
    return {"usage": True, "event": event, "logger": "usage", "attributes": attributes}


SIMULATED_FAILURE = "simulated failure"
# A die that always fails, beside the packaged ones: the failure path without chance.
DOOMED = {"name": "doomed", "faces": [1, 2], "failure_rate": 1}

# Stage 1: the risky die is always slow (0.2 s) and then always fails, so one request shows both.
STAGE1_DICE_ROLLER = ServiceSignals(
    settings={"RISKY_FAILURE_RATE": "1", "RISKY_SLOW_RATE": "1", "RISKY_DELAY_SECONDS": "0.2"},
    calls=(
        Call("GET", "/roll?die=fair"),
        Call("GET", "/roll?die=risky", 500, detail=SIMULATED_FAILURE),
    ),
    metrics=(
        Metric("dice_rolls_total", {"die": "fair", "value": ANY}),
        Metric("dice_roll_failures_total", {"die": "risky"}, 1),
        # A series at 0 from the start, for rate() and alerts.
        Metric("dice_roll_failures_total", {"die": "fair"}, 0),
        *http_metrics("/roll"),
        Metric("http_requests_total", {"handler": "/roll", "method": "GET", "status": "5xx"}, 1),
    ),
    spans=(
        # Each request its own trace's root; url.query is what the chapter's diagnosis reads.
        Span(
            "GET /roll",
            SERVER,
            parent=ROOT,
            attributes={"url.query": "die=fair", "http.response.status_code": 200},
        ),
        # The failure is an error span, and the delay is inside it.
        Span(
            "GET /roll",
            SERVER,
            parent=ROOT,
            attributes={"url.query": "die=risky", "http.response.status_code": 500},
            error=True,
            min_seconds=0.2,
        ),
        *operation_spans("GET /roll", "dice-roller"),
    ),
    logs=(
        Log(usage("roll", die="fair", value=ANY), in_span="fastapi.endpoint"),
        Log(
            {"level": "WARNING", "logger": "stage1.dice_roller", "delay": 0.2},
            in_span="fastapi.endpoint",
        ),
        Log(
            {"level": "ERROR", "logger": "stage1.dice_roller", "message": re.compile("simulated")},
            in_span="fastapi.endpoint",
        ),
        Log({"logger": "uvicorn.access", "path": "/roll?die=fair", "status": 200}, "GET /roll"),
    ),
)

# Stage 2: the page's click is a span whose child, the call to the dice-roller, is the parent of
# the dice-roller's server span: one trace across both services.
STAGE2_DICE_ROLLER = STAGE1_DICE_ROLLER.extended(
    spans=(Span("GET /roll", SERVER, parent=Parent("frontend", "GET")),),
)
STAGE2_FRONTEND = ServiceSignals(
    settings={},
    actions=("roll",),
    metrics=(Metric("frontend_rolls_total", {"die": "fair", "outcome": "ok"}),),
    spans=(
        Span("roll die", INTERNAL, parent=ROOT, attributes={"die": "fair"}),
        Span("GET", CLIENT, parent=Parent("frontend", "roll die")),
    ),
    logs=(Log(usage("roll", die="fair", value=ANY), in_span="roll die"),),
)

# Stage 3: the dice come from a die-service, which the dice-roller asks before each roll.
STAGE3_DIE_SERVICE = ServiceSignals(
    settings={},
    extra_dice=(DOOMED,),
    calls=(
        Call("GET", "/dice"),
        Call("GET", "/dice/loaded"),
        Call("GET", "/dice/nope", 404, detail="no die named 'nope'"),
    ),
    metrics=(
        *http_metrics("/dice"),
        *http_metrics("/dice/{name}"),
        Metric(
            "http_requests_total", {"handler": "/dice/{name}", "method": "GET", "status": "4xx"}
        ),
    ),
    spans=(
        Span("GET /dice/{name}", SERVER, parent=Parent("dice-roller", "GET")),
        Span("GET /dice", SERVER, parent=Parent("frontend", "GET")),
        *operation_spans("GET /dice/{name}", "die-service"),
    ),
    logs=(Log({"logger": "uvicorn.access", "path": "/dice/d20"}, in_span="GET /dice/{name}"),),
)
STAGE3_DICE_ROLLER = ServiceSignals(
    settings={},
    calls=(
        Call("GET", "/roll?die=d20"),
        Call("GET", "/roll?die=doomed", 500, detail=SIMULATED_FAILURE),
        Call(
            "GET",
            "/roll?die=nope",
            404,
            detail="unknown die 'nope': the die-service has no such die",
        ),
    ),
    metrics=(
        Metric("dice_rolls_total", {"die": "d20", "value": ANY}),
        Metric("dice_roll_failures_total", {"die": "doomed"}),
        *http_metrics("/roll"),
        Metric("http_requests_total", {"handler": "/roll", "method": "GET", "status": "4xx"}, 1),
        Metric("http_requests_total", {"handler": "/roll", "method": "GET", "status": "5xx"}, 1),
    ),
    spans=(
        Span("GET /roll", SERVER, parent=ROOT, attributes={"url.query": "die=d20"}),
        Span("GET /roll", SERVER, attributes={"url.query": "die=doomed"}, error=True),
        Span("GET /roll", SERVER, parent=Parent("frontend", "GET")),
        *operation_spans("GET /roll", "dice-roller"),
        # The call to the die-service: one naming dialect in the trace, the stable HTTP names.
        Span(
            "GET",
            CLIENT,
            parent=Parent("dice-roller", "fastapi.endpoint"),
            attributes={"url.full": re.compile("/dice/d20$"), "http.request.method": "GET"},
            absent=("http.method", "http.url"),
        ),
    ),
    logs=(
        Log(usage("roll", die="d20", value=ANY), in_span="fastapi.endpoint"),
        Log(
            {"level": "ERROR", "logger": "stage3.dice_roller", "message": re.compile("doomed")},
            in_span="fastapi.endpoint",
        ),
        Log({"logger": "uvicorn.access", "path": "/roll?die=d20", "status": 200}, "GET /roll"),
    ),
)
# The page asks the die-service which dice there are, in a span of its own.
STAGE3_FRONTEND = STAGE2_FRONTEND.extended(
    spans=(
        Span("list dice", INTERNAL, parent=ROOT),
        Span("GET", CLIENT, parent=Parent("frontend", "list dice")),
    ),
)

# Stage 4: GET /roll-async rolls many dice concurrently, each in a span under the endpoint's.
STAGE4_DICE_ROLLER = STAGE3_DICE_ROLLER.extended(
    calls=(
        Call("GET", "/roll-async?die=fair&times=10"),
        # Failed rolls are counted in the answer, not a failed request.
        Call("GET", "/roll-async?die=doomed&times=3"),
    ),
    metrics=http_metrics("/roll-async"),
    spans=(
        Span("GET /roll-async", SERVER, parent=ROOT),
        Span("GET /roll-async", SERVER, parent=Parent("frontend", "GET")),
        Span(
            "roll",
            INTERNAL,
            parent=Parent("dice-roller", "fastapi.endpoint"),
            attributes={"die": "fair", "value": ANY},
        ),
        Span("roll", INTERNAL, attributes={"die": "doomed"}, error=True),
    ),
    logs=(
        Log(usage("roll_many", die="fair", times=10, failed=0), in_span="fastapi.endpoint"),
        Log(usage("roll_many", die="doomed", times=3, failed=3), in_span="fastapi.endpoint"),
        Log(
            {"level": "ERROR", "message": "one doomed die fell off the table (simulated failure)"},
            in_span="roll",
        ),
    ),
)
STAGE4_FRONTEND = STAGE3_FRONTEND.extended(
    actions=("roll many",),
    spans=(Span("roll die", INTERNAL, parent=ROOT, attributes={"die": "fair", "times": 20}),),
)


# Stage 5: the die-service keeps the dice in PostgreSQL; every query is a span of its own.
def postgres_die_service(database: str) -> ServiceSignals:
    """Stage 5's die-service on a database of this name."""
    return STAGE3_DIE_SERVICE.extended(
        database=database,
        calls=(Call("POST", "/dice", 201, json={"name": "d8", "faces": [1, 2, 3, 4, 5, 6, 7, 8]}),),
        metrics=http_metrics("/dice", method="POST"),
        spans=(
            Span("POST /dice", SERVER, parent=Parent("frontend", "POST")),
            # The stable database names, as the HTTP spans use the stable HTTP ones.
            Span(
                "SELECT",
                CLIENT,
                parent=Parent("die-service", "fastapi.endpoint"),
                attributes={
                    "db.system.name": "postgresql",
                    "db.namespace": database,
                    "db.query.text": re.compile("FROM dice"),
                },
                absent=("db.statement", "db.system"),
            ),
            Span(
                "INSERT",
                CLIENT,
                parent=Parent("die-service", "fastapi.endpoint"),
                attributes={"db.query.text": re.compile("INSERT INTO dice")},
            ),
        ),
        # A die added by the API or by the page's form: a usage event either way.
        logs=(
            Log(usage("add_die", die="d8", faces=8), in_span="fastapi.endpoint"),
            Log(usage("add_die", die="d4", faces=4), in_span="fastapi.endpoint"),
        ),
    )


STAGE5_DIE_SERVICE = postgres_die_service("signals_stage5")
STAGE5_FRONTEND = STAGE4_FRONTEND.extended(
    actions=("add die",),
    spans=(
        Span("add die", INTERNAL, parent=ROOT, attributes={"die": "d4"}),
        Span("POST", CLIENT, parent=Parent("frontend", "add die")),
    ),
)


# Stage 6: a die's faults are switched while everything runs; the switch explains the incident.
def faulty_die_service(database: str) -> ServiceSignals:
    """Stage 6's die-service (and 7's) on a database of this name."""
    return postgres_die_service(database).extended(
        calls=(Call("PATCH", "/dice/coin/faults", json={"failure_rate": 0.5}),),
        metrics=(
            *http_metrics("/dice/{name}/faults", method="PATCH"),
            # Each die's faults as last read or set: the API's change, and the page's.
            Metric("dice_fault_ratio", {"die": "coin", "fault": "failure"}, 0.5),
            Metric("dice_fault_ratio", {"die": "fair", "fault": "slow"}, 0.05),
        ),
        spans=(
            Span("PATCH /dice/{name}/faults", SERVER, parent=ROOT),
            Span("PATCH /dice/{name}/faults", SERVER, parent=Parent("frontend", "PATCH")),
            # One statement, so two changes at once cannot interleave.
            Span(
                "UPDATE",
                CLIENT,
                parent=Parent("die-service", "fastapi.endpoint"),
                attributes={"db.query.text": re.compile("UPDATE dice SET")},
            ),
        ),
        logs=(
            Log(
                {
                    "level": "WARNING",
                    "message": "faults of the coin die changed: failure_rate=0.5",
                    "die": "coin",
                    "failure_rate": 0.5,
                },
                in_span="fastapi.endpoint",
            ),
            Log(usage("set_faults", die="coin", failure_rate=0.5), in_span="fastapi.endpoint"),
            # The page's form sends only what was moved: the die's other faults stay as they are.
            Log(
                {"level": "WARNING", "message": "faults of the fair die changed: slow_rate=0.05"},
                in_span="fastapi.endpoint",
            ),
        ),
    )


STAGE6_DIE_SERVICE = faulty_die_service("signals_stage6")
STAGE6_FRONTEND = STAGE5_FRONTEND.extended(
    actions=("set faults",),
    spans=(
        Span("set faults", INTERNAL, parent=ROOT, attributes={"die": "fair"}),
        Span("PATCH", CLIENT, parent=Parent("frontend", "set faults")),
    ),
)

# Stage 7: GET /roll checks the die's fairness first, and a switch keeps the check's verdicts.
# The check's CPU samples tied to the span: tests/integration/test_stage7.py (the matrix runs
# without a profiler).
STAGE7_DICE_ROLLER = STAGE4_DICE_ROLLER.extended(
    settings={"FAIRNESS_ROLLS": "10000"},
    calls=(
        Call("GET", "/roll?die=loaded"),
        Call("GET", "/fairness-check"),
        Call("PUT", "/fairness-check", json={"cache": True}),
    ),
    metrics=(
        *http_metrics("/fairness-check"),
        *http_metrics("/fairness-check", method="PUT"),
    ),
    spans=(
        Span("PUT /fairness-check", SERVER, parent=ROOT),
        Span("PUT /fairness-check", SERVER, parent=Parent("frontend", "PUT")),
        Span("GET /fairness-check", SERVER, parent=Parent("frontend", "GET")),
    ),
    logs=(
        # As stage 6's fault switches: the line that explains the latency that changes after it.
        Log(
            {"level": "WARNING", "message": "fairness check: cache on", "cache": True},
            in_span="fastapi.endpoint",
        ),
        Log(usage("set_fairness_check", cache=True), in_span="fastapi.endpoint"),
        # The page's toggle, which starts from the switch as it is (on) and turns it off.
        Log(
            {"level": "WARNING", "message": "fairness check: cache off", "cache": False},
            in_span="fastapi.endpoint",
        ),
    ),
)
STAGE7_FRONTEND = STAGE6_FRONTEND.extended(
    actions=("set fairness check",),
    spans=(
        Span("set fairness check", INTERNAL, parent=ROOT, attributes={"cache": False}),
        Span("PUT", CLIENT, parent=Parent("frontend", "set fairness check")),
    ),
)

SIGNALS: dict[str, dict[str, ServiceSignals]] = {
    "stage-1": {"dice-roller": STAGE1_DICE_ROLLER},
    "stage-2": {"dice-roller": STAGE2_DICE_ROLLER, "frontend": STAGE2_FRONTEND},
    "stage-3": {
        "die-service": STAGE3_DIE_SERVICE,
        "dice-roller": STAGE3_DICE_ROLLER,
        "frontend": STAGE3_FRONTEND,
    },
    "stage-4": {
        "die-service": STAGE3_DIE_SERVICE,
        "dice-roller": STAGE4_DICE_ROLLER,
        "frontend": STAGE4_FRONTEND,
    },
    "stage-5": {
        "die-service": STAGE5_DIE_SERVICE,
        "dice-roller": STAGE4_DICE_ROLLER,
        "frontend": STAGE5_FRONTEND,
    },
    "stage-6": {
        "die-service": STAGE6_DIE_SERVICE,
        "dice-roller": STAGE4_DICE_ROLLER,
        "frontend": STAGE6_FRONTEND,
    },
    "stage-7": {
        "die-service": faulty_die_service("signals_stage7"),
        "dice-roller": STAGE7_DICE_ROLLER,
        "frontend": STAGE7_FRONTEND,
    },
}


def matches(actual: Any, expected: Any) -> bool:
    """`actual` is what `expected` describes (see the module's docstring)."""
    if isinstance(expected, re.Pattern):
        return isinstance(actual, str) and expected.search(actual) is not None
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and matches(actual[key], value) for key, value in expected.items()
        )
    return actual == expected
