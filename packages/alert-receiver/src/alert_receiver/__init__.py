"""Alertmanager's webhook receiver: each alert of each notification is logged as a JSON line."""
