"""Dice expressions (NdM, NdM+K, NdM-K): parsing with bounds, and rolling."""

import random
import re
from dataclasses import dataclass

MAX_DICE = 100
MIN_SIDES, MAX_SIDES = 2, 1000
MAX_MODIFIER = 1000

# Exactly the valid expressions, bounds included, without leading zeros: what the API accepts,
# and the pattern its OpenAPI document gives, so the two cannot disagree.
PATTERN = (
    r"^(?:100|[1-9][0-9]?)[dD](?:1000|[1-9][0-9]{1,2}|[2-9])(?:[+-](?:1000|[1-9][0-9]{0,2}|0))?$"
)
_VALID = re.compile(PATTERN)
# Looser, only to say what is wrong; digit runs are capped so an absurd number never reaches int().
_EXPRESSION = re.compile(r"(?P<count>\d{1,6})[dD](?P<sides>\d{1,6})(?P<modifier>[+-]\d{1,6})?")

VALID_FORMS = (
    f"a valid expression is NdM, NdM+K or NdM-K (e.g. 3d6, 2d20+3, 4d8-1) "
    f"with N from 1 to {MAX_DICE} dice, M from {MIN_SIDES} to {MAX_SIDES} sides "
    f"and K from 0 to {MAX_MODIFIER}"
)


class DiceError(ValueError):
    """An expression that is malformed or out of bounds; the message says what a valid one is."""


@dataclass(frozen=True)
class DiceExpression:
    count: int
    sides: int
    modifier: int = 0

    def __str__(self) -> str:
        modifier = f"{self.modifier:+d}" if self.modifier else ""
        return f"{self.count}d{self.sides}{modifier}"


@dataclass(frozen=True)
class Roll:
    expression: DiceExpression
    rolls: list[int]

    @property
    def total(self) -> int:
        return sum(self.rolls) + self.expression.modifier


def parse(text: str) -> DiceExpression:
    match = _EXPRESSION.fullmatch(text)
    if match is None:
        raise DiceError(f"{text[:40]!r} is not a dice expression: {VALID_FORMS}")
    count, sides = int(match["count"]), int(match["sides"])
    modifier = int(match["modifier"] or 0)
    if not 1 <= count <= MAX_DICE:
        raise DiceError(f"{text!r} rolls {count} dice: {VALID_FORMS}")
    if not MIN_SIDES <= sides <= MAX_SIDES:
        raise DiceError(f"{text!r} has dice with {sides} sides: {VALID_FORMS}")
    if abs(modifier) > MAX_MODIFIER:
        raise DiceError(f"{text!r} has a modifier of {modifier}: {VALID_FORMS}")
    if not _VALID.match(text):
        raise DiceError(f"{text!r} has a number with a leading zero: {VALID_FORMS}")
    return DiceExpression(count, sides, modifier)


def roll(expression: DiceExpression, rng: random.Random) -> Roll:
    return Roll(expression, [rng.randint(1, expression.sides) for _ in range(expression.count)])
