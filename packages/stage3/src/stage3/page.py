"""The Streamlit page: pick a die, roll it, see the result, the history and the trace."""

import streamlit as st
from lab_telemetry import explore_url

from stage3 import frontend_runtime
from stage3.frontend_runtime import (
    DiceUnavailable,
    Runtime,
    list_dice,
    roll,
    start_runtime,
)
from stage3.settings import FrontendSettings


@st.cache_resource
def runtime() -> Runtime:
    return frontend_runtime.started or start_runtime(FrontendSettings())


@st.cache_data(ttl=10, show_spinner=False)
def dice() -> list[str]:
    # Cached briefly: every click reruns the page, and the list rarely changes.
    return list_dice(runtime())


def main() -> None:
    rt = runtime()
    st.set_page_config(page_title="Dice roller")
    st.title("Dice roller")
    die_service = rt.settings.die_service_public_url or rt.settings.die_service_url
    roller = rt.settings.dice_roller_public_url or rt.settings.dice_roller_url
    st.caption(
        f"Stage 3: dice from the die-service at {die_service}, "
        f"rolled by the dice-roller at {roller}"
    )

    try:
        offered = dice()
    except DiceUnavailable as exc:
        st.error(str(exc))
        return
    die = st.radio("Die", offered, horizontal=True, key="die")
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
