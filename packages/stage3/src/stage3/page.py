"""Stage 3's page (a Streamlit script): the dice offered are the die-service's."""

import streamlit as st
from lab_frontend import widgets
from lab_frontend.runtime import Runtime
from stage2.frontend import roll

from stage3.frontend import DiceUnavailable, list_dice
from stage3.settings import FrontendSettings


@st.cache_data(ttl=10, show_spinner=False)
def dice(die_service_url: str, _runtime: Runtime) -> list[str]:
    # Cached briefly, by die-service: every click reruns the page, and the list rarely changes.
    return list_dice(_runtime)


def header(rt: Runtime, stage: int) -> None:
    settings = rt.settings
    die_service = settings.die_service_public_url or settings.die_service_url  # type: ignore[attr-defined]
    roller = settings.dice_roller_public_url or settings.dice_roller_url
    widgets.header(
        f"Stage {stage}: dice from the die-service at {die_service}, "
        f"rolled by the dice-roller at {roller}"
    )


def offered_dice(rt: Runtime) -> list[str] | None:
    """The dice to pick from, or None (and the reason shown) when the die-service is down."""
    try:
        return dice(rt.settings.die_service_url, rt)  # type: ignore[attr-defined]
    except DiceUnavailable as exc:
        st.error(str(exc))
        return None


def main() -> None:
    rt = widgets.runtime(FrontendSettings)
    header(rt, 3)
    if (offered := offered_dice(rt)) is None:
        return
    die = st.radio("Die", offered, horizontal=True, key="die")
    if st.button("Roll", type="primary", key="roll"):
        widgets.history().insert(0, roll(rt, die))
    widgets.show_rolls(rt.settings.grafana_url)


if __name__ == "__main__":
    main()
