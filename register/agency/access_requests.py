"""Agency routes for access requests (filled in by the organisation issue)."""
