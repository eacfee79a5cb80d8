"""Holder routes (filled in by the organisation issue)."""
