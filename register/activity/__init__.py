"""The agency's view of the activity log."""
