"""Administration of agency staff accounts."""
