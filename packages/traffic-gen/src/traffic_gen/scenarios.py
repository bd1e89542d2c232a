"""A realistic mix of requests per target: mostly fair dice, some risky, some bad input."""

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

# Weighted choices, so a run's mix reads like real use rather than a uniform spray.
DICE_EXPRESSIONS = (("3d6", 40), ("1d20", 20), ("2d20+3", 10), ("4d8-1", 10), ("1d100", 10))
BAD_EXPRESSIONS = ("abc", "0d6", "3d6+")


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    # What the summary groups by: the route, not the full URL.
    endpoint: str
    json: dict[str, Any] | None = None


def weighted(rng: random.Random, choices: Sequence[tuple[str, int]]) -> str:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights)[0]


class Scenario:
    """Builds each user's next request; the same seed gives the same sequence."""

    def __init__(self, base_url: str, die_service_url: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.die_service_url = (die_service_url or "").rstrip("/")
        # Set by setup() from the die-service, from stage 3 on.
        self.dice: list[str] = ["fair", "risky"]

    def next_request(self, rng: random.Random, user: int, sequence: int) -> Request:
        raise NotImplementedError

    def roll(self, rng: random.Random) -> Request:
        die = self.pick_die(rng)
        return Request("GET", f"{self.base_url}/roll?die={die}", "GET /roll")

    def pick_die(self, rng: random.Random) -> str:
        """Mostly fair, some risky, the rest spread over whatever else is offered."""
        others = [(d, 10) for d in self.dice if d not in ("fair", "risky")]
        return weighted(rng, [("fair", 70), ("risky", 20), *others])


class DiceRollerScenario(Scenario):
    def next_request(self, rng: random.Random, user: int, sequence: int) -> Request:
        if rng.random() < 0.05:
            expression = rng.choice(BAD_EXPRESSIONS)
        else:
            expression = weighted(rng, DICE_EXPRESSIONS)
        return Request("GET", f"{self.base_url}/roll/{expression}", "GET /roll/{dice}")


class StageScenario(Scenario):
    """Stages 1-3: single rolls; from stage 3 the dice come from the die-service."""

    def next_request(self, rng: random.Random, user: int, sequence: int) -> Request:
        return self.roll(rng)


class AsyncRollScenario(Scenario):
    """Stage 4: single rolls and concurrent batches of varied size."""

    def next_request(self, rng: random.Random, user: int, sequence: int) -> Request:
        if rng.random() < 0.3:
            times = weighted(rng, (("5", 40), ("10", 30), ("20", 20), ("50", 10)))
            die = self.pick_die(rng)
            url = f"{self.base_url}/roll-async?die={die}&times={times}"
            return Request("GET", url, "GET /roll-async")
        return self.roll(rng)


class AddDiceScenario(AsyncRollScenario):
    """Stage 5: stage 4's mix, and now and then a new die added to the database."""

    def next_request(self, rng: random.Random, user: int, sequence: int) -> Request:
        if self.die_service_url and rng.random() < 0.02:
            sides = rng.randint(2, 12)
            body = {
                # Unique per user and request, so a new die is never a duplicate.
                "name": f"tg-u{user}-r{sequence}-d{sides}",
                "faces": list(range(1, sides + 1)),
            }
            return Request("POST", f"{self.die_service_url}/dice", "POST /dice", json=body)
        return super().next_request(rng, user, sequence)


class SteadyScenario(Scenario):
    """Stages 6 and 7: single rolls in a mix that meets the SLOs at rest (in stage 7, once its
    planted problem is fixed: every roll runs its fairness check first).

    The risky die fails a tenth of its rolls by itself, so it gets a twentieth of the traffic:
    its failures (0.5% of requests) stay inside the 1% error budget, and an alert means an
    incident the learner caused with the fault control.
    """

    # Relative weights; every other die weighs OTHERS. Stage 6's chapter states when its alerts
    # fire from this mix (tests/config/test_slo_rules.py holds it to the chapter).
    MIX: ClassVar[dict[str, int]] = {"fair": 85, "risky": 5}
    OTHERS: ClassVar[int] = 3

    def next_request(self, rng: random.Random, user: int, sequence: int) -> Request:
        return self.roll(rng)

    def pick_die(self, rng: random.Random) -> str:
        return weighted(rng, [(die, self.MIX.get(die, self.OTHERS)) for die in self.dice])


def scenario_for(target: str, base_url: str, die_service_url: str | None) -> Scenario:
    if target == "dice-roller":
        return DiceRollerScenario(base_url)
    stage = int(target.removeprefix("stage-"))
    kinds = {4: AsyncRollScenario, 5: AddDiceScenario, 6: SteadyScenario, 7: SteadyScenario}
    kind = kinds.get(stage, StageScenario)
    return kind(base_url, die_service_url)
