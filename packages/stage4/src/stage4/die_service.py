"""Stage 4's die-service is stage 3's, on stage 4's port: this chapter changes the dice-roller."""

from stage3 import die_service as stage3

from stage4.settings import DieServiceSettings


def main() -> None:
    stage3.main(DieServiceSettings, "stage4-die-service")
