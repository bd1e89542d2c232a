"""Stage 6's dice-roller is stage 5's (and 4's): it asks for the die, faults and all, on every
roll, so a fault switched at the die-service holds from the next roll."""

from stage4 import dice_roller as stage4

from stage6.settings import DiceRollerSettings


def main() -> None:
    stage4.main(DiceRollerSettings, "stage6-dice-roller")
