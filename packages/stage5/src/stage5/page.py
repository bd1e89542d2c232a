"""Stage 5's page (a Streamlit script): stage 4's, and a form in the sidebar that adds a die."""

import streamlit as st
from lab_frontend import widgets
from lab_frontend.runtime import Runtime
from stage3.page import dice, header, offered_dice
from stage4.page import roll_buttons

from stage5.frontend import AddDieError, add_die
from stage5.settings import FrontendSettings


def add_die_form(rt: Runtime) -> None:
    # In the sidebar, and before the dice are listed, so a new die is offered at once.
    with st.sidebar, st.form("add_die"):
        st.subheader("Add a die")
        name = st.text_input("Name", placeholder="d8", key="new_name")
        faces = st.text_input("Faces", placeholder="1, 2, 3, 4, 5, 6, 7, 8", key="new_faces")
        weights = st.text_input("Weights (optional, one per face)", key="new_weights")
        failure_rate = st.slider("Failure rate", 0.0, 1.0, 0.0, 0.05, key="new_failure_rate")
        if st.form_submit_button("Add die"):
            try:
                st.success(add_die(rt, name, faces, weights, failure_rate))
                dice.clear()  # the new die shows at once
            except AddDieError as exc:
                st.error(str(exc))


def main() -> None:
    rt = widgets.runtime(FrontendSettings)
    header(rt, 5)
    add_die_form(rt)
    if (offered := offered_dice(rt)) is None:
        return
    roll_buttons(rt, st.radio("Die", offered, horizontal=True, key="die"))
    widgets.show_rolls(rt.settings.grafana_url, dice_column=True)


if __name__ == "__main__":
    main()
