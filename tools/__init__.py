"""Helpers of noxfile.py (the noxfile directory is on sys.path when nox runs it)."""
