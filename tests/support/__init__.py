"""Helpers for tests that run the application outside pytest (e.g. under gunicorn)."""
