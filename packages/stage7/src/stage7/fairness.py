"""The fairness check GET /roll runs before each roll, and the switch that fixes it.

`simulate_fairness()` rolls the die a million times in pure Python (DICE_ROLLER_FAIRNESS_ROLLS)
and tests the faces' counts against an even share: about a quarter of a second of one core, on
every roll. It opens no span and logs nothing: in a trace its time is the endpoint span's own,
with no child to blame, and only a profile names it. Its verdict depends on the die's faces and
weights alone, so the fix is to keep it: `cache` on, each die specification is simulated once.
"""

import functools
import math
import random
from bisect import bisect
from itertools import accumulate

from lab_dice.dice import DieSpec
from pydantic import BaseModel, ConfigDict


def simulate_fairness(
    faces: tuple[int, ...], weights: tuple[float, ...] | None, rolls: int
) -> bool:
    """Whether a die with these faces and weights is fair: roll it `rolls` times and compare each
    face's count with an even share (Pearson's chi-square test: a fair die fails it less than
    once in a million checks, a loaded one fails it)."""
    cumulative = list(accumulate(weights or [1.0] * len(faces)))
    total = cumulative[-1]
    counts = [0] * len(faces)
    rng = random.Random()
    for _ in range(rolls):
        counts[bisect(cumulative, rng.random() * total)] += 1
    expected = rolls / len(faces)
    chi_square = sum((count - expected) ** 2 / expected for count in counts)
    # The chi-square quantile that a fair die exceeds once in a million (Wilson and Hilferty).
    degrees = len(faces) - 1
    limit = degrees * (1 - 2 / (9 * degrees) + 4.75 * math.sqrt(2 / (9 * degrees))) ** 3
    return chi_square < limit


@functools.lru_cache(maxsize=1024)
def remembered_fairness(
    faces: tuple[int, ...], weights: tuple[float, ...] | None, rolls: int
) -> bool:
    """simulate_fairness() once per die specification (the fix); later calls are a lookup."""
    return simulate_fairness(faces, weights, rolls)


class FairnessSwitch(BaseModel):
    """The body of PUT /fairness-check: whether the check's verdicts are kept per die."""

    # Strict: `"yes"` is not a boolean; nothing else may be sent.
    model_config = ConfigDict(strict=True, extra="forbid")

    cache: bool


class FairnessCheck(BaseModel):
    """The check as the dice-roller runs it now (GET and PUT /fairness-check)."""

    cache: bool = False
    rolls: int

    def is_fair(self, spec: DieSpec) -> bool:
        """The die's verdict: simulated now, or (cache on) once per faces and weights. CPU work:
        run it in a worker thread, not on the event loop."""
        faces, weights = tuple(spec.faces), tuple(spec.weights) if spec.weights else None
        if self.cache:
            return remembered_fairness(faces, weights, self.rolls)
        return simulate_fairness(faces, weights, self.rolls)
