"""Stage 5's dice-roller is stage 4's, on stage 5's port: this chapter changes the die-service."""

from stage4 import dice_roller as stage4

from stage5.settings import DiceRollerSettings


def main() -> None:
    stage4.main(DiceRollerSettings, "stage5-dice-roller")
