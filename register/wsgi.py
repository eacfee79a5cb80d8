"""The WSGI entry point for gunicorn: `gunicorn register.wsgi:app`."""

from __future__ import annotations

from config import ConfigurationError
from register import create_app

app = create_app()
if not app.config.get("SECRET_KEY"):
    raise ConfigurationError(
        "SECRET_KEY is not set. In development run `flask --app register dev init` "
        "(make run does it); in production set SECRET_KEY in the environment."
    )
