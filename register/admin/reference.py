"""Admin pages for reference lists (filled in by the organisation issue)."""
