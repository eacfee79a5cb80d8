"""Each user's inbox of notifications."""
