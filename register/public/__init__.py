"""Public pages: the home page, health checks (the register search arrives later)."""
