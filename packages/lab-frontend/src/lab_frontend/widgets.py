"""The parts of the page every stage shows alike: the runtime, the session's rolls, the last one."""

from collections.abc import Callable

import streamlit as st
from lab_dice.settings import FrontendSettings
from lab_telemetry import explore_url

from lab_frontend import launcher
from lab_frontend.runtime import Outcome, Runtime, start_runtime


def runtime(
    settings_class: type[FrontendSettings],
    start: Callable[[FrontendSettings], Runtime] = start_runtime,
) -> Runtime:
    """The runtime the entry point started; a page run on its own (a test) starts one once."""
    name = f"{settings_class.__module__}.{settings_class.__qualname__}"
    return launcher.started or _started_once(name, lambda: start(settings_class()))


@st.cache_resource
def _started_once(name: str, _start: Callable[[], Runtime]) -> Runtime:
    # Cached by `name`, the stage's settings: a runtime per stage when tests run pages.
    return _start()


def header(caption: str) -> None:
    st.set_page_config(page_title="Dice roller")
    st.title("Dice roller")
    st.caption(caption)


def history() -> list[Outcome]:
    """This browser session's rolls, newest first."""
    return st.session_state.setdefault("history", [])


def show_rolls(grafana_url: str, dice_column: bool = False) -> None:
    """The last roll with the link to its trace, then every roll of the session."""
    rolls = history()
    if not rolls:
        st.info("Pick a die and roll it.")
        return
    last = rolls[0]
    if last.error:
        st.error(last.error)
    elif last.distribution is not None:
        st.metric(f"{last.times} {last.die} dice rolled, in total", last.value)
        # Faces as numbers, so the axis runs 1, 2, ... 20 (as text it ran 1, 10, 11, ... 2).
        counts = [{"face": f, "times rolled": n} for f, n in sorted(last.distribution.items())]
        st.bar_chart(counts, x="face", y="times rolled")
    else:
        st.metric(f"The {last.die} die rolled", last.value)
    link = explore_url(grafana_url, last.trace_id)
    st.markdown(f"Trace of this roll: [`{last.trace_id}`]({link})")
    st.subheader("This session's rolls")
    st.table(
        [
            {
                "die": o.die,
                **({"dice": o.times} if dice_column else {}),
                "result": o.value if o.error is None else "error",
                "trace": o.trace_id,
            }
            for o in rolls
        ]
    )
