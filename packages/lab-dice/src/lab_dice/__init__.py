"""What the tutorial stages share and no chapter teaches.

The stages' packages hold only their chapters' lessons; this holds the rest once: the dice and
their file (dice), the error bodies and HTTP protocol fixes every API needs (errors), the settings
base (settings), and a PostgreSQL pool that survives a database that is down (database).
"""
