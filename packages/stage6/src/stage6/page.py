"""The Streamlit page: pick a die, roll it, see the result, the history and the trace."""

import streamlit as st
from lab_telemetry import explore_url

from stage6 import frontend_runtime
from stage6.frontend_runtime import (
    AddDieError,
    DiceUnavailable,
    FaultsError,
    Runtime,
    add_die,
    list_dice,
    roll,
    set_faults,
    start_runtime,
)
from stage6.settings import FrontendSettings


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
        f"Stage 6: dice from the die-service at {die_service}, "
        f"rolled by the dice-roller at {roller}"
    )

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

    try:
        offered = dice()
    except DiceUnavailable as exc:
        st.error(str(exc))
        return
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
    die = st.radio("Die", offered, horizontal=True, key="die")
    history = st.session_state.setdefault("history", [])
    one, many = st.columns([1, 3], vertical_alignment="bottom")
    if one.button("Roll", type="primary", key="roll"):
        history.insert(0, roll(rt, die))
    times = many.number_input("How many dice at once", 2, 100, 20, key="times")
    if many.button(f"Roll {times} times", key="roll_many"):
        history.insert(0, roll(rt, die, times))

    if not history:
        st.info("Pick a die and roll it.")
        return
    last = history[0]
    if last.error:
        st.error(last.error)
    elif last.distribution is not None:
        st.metric(f"{last.times} {last.die} dice rolled, in total", last.value)
        st.bar_chart({"times rolled": {str(f): n for f, n in last.distribution.items()}})
    else:
        st.metric(f"The {last.die} die rolled", last.value)
    link = explore_url(rt.settings.grafana_url, last.trace_id)
    st.markdown(f"Trace of this roll: [`{last.trace_id}`]({link})")
    st.subheader("This session's rolls")
    st.table(
        [
            {
                "die": o.die,
                "dice": o.times,
                "result": o.value if o.error is None else "error",
                "trace": o.trace_id,
            }
            for o in history
        ]
    )


main()
