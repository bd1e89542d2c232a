"""Tutorial stage 5: the die-service keeps the dice in PostgreSQL, traced through asyncpg."""
