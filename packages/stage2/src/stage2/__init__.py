"""Tutorial stage 2: a Streamlit frontend calls the dice-roller; one trace crosses two services."""
