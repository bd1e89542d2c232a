"""Stage 7's die-service is stage 6's, faults and all, on stage 7's port: this chapter changes
the dice-roller."""

from stage5 import die_service as stage5
from stage6 import die_service as stage6
from stage6.faults import FaultyDiceStore

from stage7.settings import DieServiceSettings


def main() -> None:
    stage5.main(DieServiceSettings, "stage7-die-service", FaultyDiceStore, stage6.create_app)
