"""usage-scraper: usage events from Loki into PostgreSQL, effectively exactly once."""
