"""A die's faults, changed while everything runs: the body of PATCH /dice/NAME/faults, the
SQL that applies it, and the gauge that shows each die's faults beside what they cause."""

from lab_dice.dice import DelaySeconds, DieSpec
from lab_telemetry import Metrics
from prometheus_client import Gauge
from pydantic import BaseModel, ConfigDict, Field, model_validator
from stage5.dice_store import DiceStore, spec_of


class Faults(BaseModel):
    """A die's simulated faults, changed while the services run: what is left out stays as is."""

    # Strict: `true` is not a rate. At least one field: an empty change is a mistake.
    model_config = ConfigDict(strict=True, json_schema_extra={"minProperties": 1})

    # Not nullable (None only marks "left out"): a JSON null is refused like any non-number.
    failure_rate: float = Field(default=None, ge=0, le=1)  # type: ignore[assignment]
    slow_rate: float = Field(default=None, ge=0, le=1)  # type: ignore[assignment]
    delay_range_seconds: list[DelaySeconds] = Field(default=None, min_length=2, max_length=2)  # type: ignore[assignment]

    @model_validator(mode="after")
    def _consistent(self) -> "Faults":
        if not self.model_fields_set:
            raise ValueError("name at least one of failure_rate, slow_rate, delay_range_seconds")
        if self.delay_range_seconds is not None:
            low, high = self.delay_range_seconds
            if low > high:
                raise ValueError("delay_range_seconds must be [min, max] with min <= max")
        return self


# One statement, so two changes at once cannot interleave; unnamed faults keep their values.
UPDATE_FAULTS = """
UPDATE dice SET
    failure_rate = coalesce($2, failure_rate),
    slow_rate = coalesce($3, slow_rate),
    delay_min_seconds = coalesce($4, delay_min_seconds),
    delay_max_seconds = coalesce($5, delay_max_seconds)
WHERE name = $1
RETURNING name, faces, weights, failure_rate, slow_rate, delay_min_seconds, delay_max_seconds
"""


class FaultyDiceStore(DiceStore):
    """Stage 5's store and set_faults. Once given the app's metrics (`report_faults`), every die
    it reads or changes sets `dice_fault_ratio{die, fault="failure"|"slow"}`: the dice-roller
    reads the die on every roll, so the gauge is the faults the latest rolls had."""

    faults: Gauge | None = None

    def report_faults(self, metrics: Metrics) -> None:
        self.faults = metrics.gauge(
            "dice_fault_ratio",
            "A die's simulated faults as last read or set: the share of its rolls that fail "
            "(fault=failure) or are slow (fault=slow).",
            ("die", "fault"),
        )

    def _reported(self, spec: DieSpec) -> DieSpec:
        if self.faults is not None:
            self.faults.labels(spec.name, "failure").set(spec.failure_rate)
            self.faults.labels(spec.name, "slow").set(spec.slow_rate)
        return spec

    async def all(self) -> list[DieSpec]:
        return [self._reported(spec) for spec in await super().all()]

    async def get(self, name: str) -> DieSpec | None:
        spec = await super().get(name)
        return self._reported(spec) if spec else None

    async def set_faults(self, name: str, faults: Faults) -> DieSpec | None:
        """The die with its faults changed; None if there is no such die."""
        low, high = faults.delay_range_seconds or (None, None)
        record = await self.database.run(
            "fetchrow", UPDATE_FAULTS, name, faults.failure_rate, faults.slow_rate, low, high
        )
        return self._reported(spec_of(record)) if record else None  # type: ignore[arg-type]
