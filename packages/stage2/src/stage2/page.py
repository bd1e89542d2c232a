"""Stage 2's page (a Streamlit script): pick a die, roll it, see the result and its trace."""

import streamlit as st
from lab_frontend import widgets
from stage1.dice_roller import DICE

from stage2.frontend import roll, start
from stage2.settings import FrontendSettings


def main() -> None:
    rt = widgets.runtime(FrontendSettings, start)
    roller = rt.settings.dice_roller_public_url or rt.settings.dice_roller_url
    widgets.header(f"Stage 2: this page calls the dice-roller at {roller}")
    die = st.radio("Die", DICE, horizontal=True, key="die")
    if st.button("Roll", type="primary", key="roll"):
        widgets.history().insert(0, roll(rt, die))
    widgets.show_rolls(rt.settings.grafana_url)


if __name__ == "__main__":
    main()
