"""Tutorial stage 2: a Streamlit frontend calls stage 1's dice-roller; one trace crosses both."""
