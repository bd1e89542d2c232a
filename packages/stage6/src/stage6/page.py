"""Stage 6's page (a Streamlit script): stage 5's, and a form that switches a die's faults."""

import streamlit as st
from lab_frontend import widgets
from lab_frontend.runtime import Runtime
from stage3.page import header, offered_dice
from stage4.page import roll_buttons
from stage5.page import add_die_form

from stage6.frontend import FaultsError, current_faults, set_faults
from stage6.settings import FrontendSettings


def faults_form(rt: Runtime, offered: list[str]) -> None:
    # Faults switched while everything runs: the next roll of that die has them. The sliders
    # start at the die's faults now, and only what is moved is sent: the rest stays as it is.
    with st.sidebar:
        st.subheader("Faults of a die")
        die = st.selectbox("Die", offered, key="faults_die")
        try:
            now = current_faults(rt, die)
        except FaultsError as exc:
            st.error(str(exc))
            return
        low, high = now["delay_range_seconds"]
        with st.form("faults"):
            # Keyed by die: another die's sliders start from that die's faults.
            chosen = {
                "failure_rate": st.slider(
                    "Failure rate", 0.0, 1.0, now["failure_rate"], 0.05, key=f"fail_{die}"
                ),
                "slow_rate": st.slider(
                    "Slow rate", 0.0, 1.0, now["slow_rate"], 0.05, key=f"slow_{die}"
                ),
                "delay_range_seconds": list(
                    st.slider(
                        "Delay when slow (s)", 0.0, max(5.0, high), (low, high), 0.1,
                        key=f"delay_{die}",
                    )
                ),
            }  # fmt: skip
            if st.form_submit_button("Set faults"):
                changes = {name: value for name, value in chosen.items() if value != now[name]}
                try:
                    st.success(set_faults(rt, die, changes))
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
