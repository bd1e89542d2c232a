"""Dice: faces, weights and simulated faults (failure rate, delay range), and the file of the
lab's dice (dice.json) that the die-service serves or seeds its database with."""

import json
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, ValidationError, model_validator

# Lower-case letters, digits and dashes: safe in a URL path and as a metric label value.
DIE_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,31}$"
DieName = Annotated[str, Field(pattern=DIE_NAME_PATTERN)]
# Face values fit PostgreSQL's integer with room to spare; weights are finite and their sum too.
Face = Annotated[int, Field(ge=-1_000_000, le=1_000_000)]
Weight = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
DelaySeconds = Annotated[float, Field(ge=0, le=30)]
# The lab's dice: the die-service serves them (stages 3-4) or seeds its database with them.
DICE_FILE = Path(__file__).with_name("dice.json")


class DieSpec(BaseModel):
    name: DieName
    faces: list[Face] = Field(min_length=2, max_length=100)
    # Relative weights, one per face; None means every face is equally likely.
    weights: list[Weight] | None = None
    failure_rate: float = Field(default=0.0, ge=0, le=1)
    slow_rate: float = Field(default=0.0, ge=0, le=1)
    # [min, max]: a list, since a tuple's schema is not valid OpenAPI for every tool.
    delay_range_seconds: list[DelaySeconds] = Field(default=[0.0, 0.0], min_length=2, max_length=2)

    @model_validator(mode="after")
    def _consistent(self) -> "DieSpec":
        if self.weights is not None:
            if len(self.weights) != len(self.faces):
                raise ValueError(
                    f"weights has {len(self.weights)} values but faces has {len(self.faces)}"
                )
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        low, high = self.delay_range_seconds
        if not 0 <= low <= high <= 30:
            raise ValueError("delay_range_seconds must be [min, max] with 0 <= min <= max <= 30")
        return self


class DiceFileError(ValueError):
    """A dice file that cannot be served; the message names the file and the bad entry."""


def load_dice(path: Path) -> dict[str, DieSpec]:
    try:
        entries = json.loads(path.read_text())
    except OSError as exc:
        raise DiceFileError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise DiceFileError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(entries, list) or not entries:
        raise DiceFileError(f"{path} must hold a non-empty JSON list of dice")
    dice: dict[str, DieSpec] = {}
    for index, entry in enumerate(entries, start=1):
        label = f"entry {index}" + (
            f" ({entry.get('name')!r})" if isinstance(entry, dict) and "name" in entry else ""
        )
        try:
            spec = DieSpec.model_validate(entry)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(part) for part in error["loc"])
            message = error["msg"].removeprefix("Value error, ")
            reason = f"{where}: {message}" if where else message
            raise DiceFileError(f"{path}: {label}: {reason}") from None
        if spec.name in dice:
            raise DiceFileError(f"{path}: {label}: the name {spec.name!r} is used twice")
        dice[spec.name] = spec
    return dice
