import json
from pathlib import Path

import pytest
from lab_dice.dice import DICE_FILE, DiceFileError, load_dice


def write(tmp_path: Path, entries: object) -> Path:
    path = tmp_path / "dice.json"
    path.write_text(json.dumps(entries))
    return path


def test_the_packaged_dice_file_is_valid() -> None:
    dice = load_dice(DICE_FILE)
    assert {"fair", "risky"} <= dice.keys()
    assert dice["risky"].failure_rate > 0


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [{"name": "fair", "faces": [1, 2]}, {"name": "bad", "faces": [1]}],
            "entry 2 ('bad'): faces: List should have at least 2 items",
        ),
        (
            [{"name": "w", "faces": [1, 2, 3], "weights": [1, 2]}],
            "entry 1 ('w'): weights has 2 values but faces has 3",
        ),
        (
            [{"name": "r", "faces": [1, 2], "failure_rate": 2}],
            "entry 1 ('r'): failure_rate: Input should be less than or equal to 1",
        ),
        (
            [{"name": "d", "faces": [1, 2], "delay_range_seconds": [2, 1]}],
            "entry 1 ('d'): delay_range_seconds must be [min, max]",
        ),
        (
            [{"name": "a", "faces": [1, 2]}, {"name": "a", "faces": [3, 4]}],
            "entry 2 ('a'): the name 'a' is used twice",
        ),
        ([{"faces": [1, 2]}], "entry 1: name: Field required"),
        ([], "must hold a non-empty JSON list of dice"),
    ],
)
def test_a_bad_entry_is_named_in_the_error(tmp_path: Path, entries: object, message: str) -> None:
    with pytest.raises(DiceFileError) as error:
        load_dice(write(tmp_path, entries))
    assert message in str(error.value)
    assert str(tmp_path / "dice.json") in str(error.value)


def test_unreadable_and_malformed_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DiceFileError, match="cannot read"):
        load_dice(tmp_path / "missing.json")
    (tmp_path / "dice.json").write_text("{not json")
    with pytest.raises(DiceFileError, match="is not valid JSON"):
        load_dice(tmp_path / "dice.json")
