"""What the stages' Streamlit frontends share and no chapter teaches.

A stage's frontend is its page (page.py, a Streamlit script) and its lesson's logic
(frontend.py); this holds the rest once: the process-wide runtime and the calls to the stage's
services with their errors in words (runtime), the entry point that starts Streamlit (launcher),
and the page's common parts (widgets).
Only the frontends' images carry Streamlit: a stage's `frontend` extra pulls this in.
"""
