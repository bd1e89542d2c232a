"""The Streamlit page: pick a die, roll it, see the result, the history and the trace."""

import streamlit as st
from lab_telemetry import explore_url

from stage2 import frontend_runtime
from stage2.frontend_runtime import DICE, Runtime, roll, start_runtime
from stage2.settings import FrontendSettings


@st.cache_resource
def runtime() -> Runtime:
    return frontend_runtime.started or start_runtime(FrontendSettings())


def main() -> None:
    rt = runtime()
    st.set_page_config(page_title="Dice roller")
    st.title("Dice roller")
    roller = rt.settings.dice_roller_public_url or rt.settings.dice_roller_url
    st.caption(f"Stage 2: this page calls the dice-roller at {roller}")

    die = st.radio("Die", DICE, horizontal=True, key="die")
    history = st.session_state.setdefault("history", [])
    if st.button("Roll", type="primary", key="roll"):
        history.insert(0, roll(rt, die))

    if not history:
        st.info("Pick a die and roll it.")
        return
    last = history[0]
    if last.error:
        st.error(last.error)
    else:
        st.metric(f"The {last.die} die rolled", last.value)
    link = explore_url(rt.settings.grafana_url, last.trace_id)
    st.markdown(f"Trace of this roll: [`{last.trace_id}`]({link})")
    st.subheader("This session's rolls")
    st.table(
        [
            {"die": o.die, "result": o.value if o.error is None else "error", "trace": o.trace_id}
            for o in history
        ]
    )


main()
