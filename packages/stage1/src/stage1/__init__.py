"""Tutorial stage 1: one FastAPI dice-roller with a fair and a risky die, and its three signals."""
