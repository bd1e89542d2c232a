"""Tutorial stage 5: die specifications move to PostgreSQL; the full trace reaches the database."""
