import random

import pytest
from dice_roller.dice import MAX_DICE, MAX_SIDES, DiceError, DiceExpression, parse, roll


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3d6", DiceExpression(3, 6, 0)),
        ("1d2", DiceExpression(1, 2, 0)),
        ("2d20+3", DiceExpression(2, 20, 3)),
        ("4d8-1", DiceExpression(4, 8, -1)),
        ("2D10", DiceExpression(2, 10, 0)),
        (f"{MAX_DICE}d{MAX_SIDES}+1000", DiceExpression(MAX_DICE, MAX_SIDES, 1000)),
    ],
)
def test_valid_expressions_parse(text: str, expected: DiceExpression) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "abc",
        "0d6",
        "3d1",
        "1000000d6",
        "3d6+",
        "",
        "d6",
        "3d",
        "3d6+1+1",
        "-3d6",
        "3 d6",
        "101d6",
        "3d1001",
        "3d6+1001",
        "99999999999999999999d6",
        # Leading zeros: outside the pattern the OpenAPI document gives, so refused too.
        "03d6",
        "3d06",
        "3d6+01",
    ],
)
def test_bad_expressions_say_what_a_valid_one_looks_like(text: str) -> None:
    with pytest.raises(DiceError) as error:
        parse(text)
    message = str(error.value)
    assert "NdM, NdM+K or NdM-K" in message
    assert "3d6" in message
    assert f"1 to {MAX_DICE} dice" in message


def test_roll_is_within_bounds_and_totals_with_the_modifier() -> None:
    expression = parse("10d6-2")
    result = roll(expression, random.Random(7))
    assert len(result.rolls) == 10
    assert all(1 <= value <= 6 for value in result.rolls)
    assert result.total == sum(result.rolls) - 2


def test_expression_prints_in_canonical_form() -> None:
    assert str(parse("2D20+3")) == "2d20+3"
    assert str(parse("1d4-0")) == "1d4"


def test_the_documented_pattern_accepts_exactly_what_parse_accepts() -> None:
    import re

    from dice_roller.dice import PATTERN

    candidates = [
        f"{n}d{m}{k}"
        for n in (0, 1, 9, 10, 99, 100, 101)
        for m in (1, 2, 9, 10, 999, 1000, 1001)
        for k in ("", "+0", "-0", "+7", "-1000", "+1001", "+07")
    ]
    for text in candidates:
        try:
            parse(text)
            parsed = True
        except DiceError:
            parsed = False
        assert bool(re.fullmatch(PATTERN, text)) == parsed, text
