"""Stage 7's page (a Streamlit script): stage 6's, and a switch for the fairness check."""

import streamlit as st
from lab_frontend import widgets
from lab_frontend.runtime import Runtime
from stage3.page import header, offered_dice
from stage4.page import roll_buttons
from stage5.page import add_die_form
from stage6.page import faults_form

from stage7.frontend import FairnessCheckError, fairness_cache, set_fairness_cache
from stage7.settings import FrontendSettings


def fairness_form(rt: Runtime) -> None:
    # The fix of this chapter, switched while everything runs: the next roll has it.
    with st.sidebar:
        st.subheader("Fairness check")
        try:
            now = fairness_cache(rt)
        except FairnessCheckError as exc:
            st.error(str(exc))
            return
        with st.form("fairness"):
            cache = st.toggle("Keep each die's verdict (check it once)", now, key="fairness_cache")
            if st.form_submit_button("Set fairness check"):
                try:
                    st.success(set_fairness_cache(rt, cache))
                except FairnessCheckError as exc:
                    st.error(str(exc))


def main() -> None:
    rt = widgets.runtime(FrontendSettings)
    header(rt, 7)
    add_die_form(rt)
    if (offered := offered_dice(rt)) is None:
        return
    fairness_form(rt)
    faults_form(rt, offered)
    roll_buttons(rt, st.radio("Die", offered, horizontal=True, key="die"))
    widgets.show_rolls(rt.settings.grafana_url, dice_column=True)


if __name__ == "__main__":
    main()
