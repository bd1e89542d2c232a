"""Stage 6's page (a Streamlit script): stage 5's, and a form that switches a die's faults."""

import streamlit as st
from lab_frontend import widgets
from lab_frontend.runtime import Runtime
from stage3.page import header, offered_dice
from stage4.page import roll_buttons
from stage5.page import add_die_form

from stage6.frontend import FaultsError, set_faults
from stage6.settings import FrontendSettings


def faults_form(rt: Runtime, offered: list[str]) -> None:
    # Faults switched while everything runs: the next roll of that die has them.
    with st.sidebar, st.form("faults"):
        st.subheader("Faults of a die")
        target = st.selectbox("Die", offered, key="faults_die")
        failure_rate = st.slider("Failure rate", 0.0, 1.0, 0.0, 0.05, key="faults_failure_rate")
        slow_rate = st.slider("Slow rate", 0.0, 1.0, 0.0, 0.05, key="faults_slow_rate")
        delay = st.slider("Delay when slow (s)", 0.0, 5.0, (0.5, 1.5), 0.1, key="faults_delay")
        if st.form_submit_button("Set faults"):
            try:
                st.success(set_faults(rt, target, failure_rate, slow_rate, delay))
            except FaultsError as exc:
                st.error(str(exc))


def main() -> None:
    rt = widgets.runtime(FrontendSettings)
    header(rt, 6)
    add_die_form(rt)
    if (offered := offered_dice(rt)) is None:
        return
    faults_form(rt, offered)
    roll_buttons(rt, st.radio("Die", offered, horizontal=True, key="die"))
    widgets.show_rolls(rt.settings.grafana_url, dice_column=True)


if __name__ == "__main__":
    main()
