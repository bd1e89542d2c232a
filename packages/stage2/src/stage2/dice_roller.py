"""Stage 2's dice-roller is stage 1's, on stage 2's port: this chapter adds the frontend."""

from stage1 import dice_roller as stage1

from stage2.settings import DiceRollerSettings


def main() -> None:
    stage1.main(DiceRollerSettings, "stage2-dice-roller")
