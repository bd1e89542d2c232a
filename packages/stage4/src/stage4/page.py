"""Stage 4's page (a Streamlit script): stage 3's, and a button that rolls many dice at once."""

import streamlit as st
from lab_frontend import widgets
from lab_frontend.runtime import Runtime
from stage2.frontend import roll
from stage3.page import header, offered_dice

from stage4.frontend import roll_many
from stage4.settings import FrontendSettings


def roll_buttons(rt: Runtime, die: str) -> None:
    one, many = st.columns([1, 3], vertical_alignment="bottom")
    if one.button("Roll", type="primary", key="roll"):
        widgets.history().insert(0, roll(rt, die, times=1))
    times = many.number_input("How many dice at once", 2, 100, 20, key="times")
    if many.button(f"Roll {times} times", key="roll_many"):
        widgets.history().insert(0, roll_many(rt, die, times))


def main() -> None:
    rt = widgets.runtime(FrontendSettings)
    header(rt, 4)
    if (offered := offered_dice(rt)) is None:
        return
    roll_buttons(rt, st.radio("Die", offered, horizontal=True, key="die"))
    widgets.show_rolls(rt.settings.grafana_url, dice_column=True)


if __name__ == "__main__":
    main()
