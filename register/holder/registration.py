"""Holder routes (filled in by the declarations issue)."""
