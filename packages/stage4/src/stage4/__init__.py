"""Tutorial stage 4: GET /roll-async rolls many dice concurrently, each in its own span."""
