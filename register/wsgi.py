"""The WSGI entry point for gunicorn: `gunicorn register.wsgi:app`."""

from __future__ import annotations

from pathlib import Path

from config import ConfigurationError
from register import create_app
from register.crypto import keyring

app = create_app()
# Refuse to serve without the key file: encrypted values could be neither read nor written.
keyring.load(Path(app.config["REGISTER_KEYS_FILE"]))
if not app.config.get("SECRET_KEY"):
    raise ConfigurationError(
        "SECRET_KEY is not set. In development run `flask --app register dev init` "
        "(make run does it); in production set SECRET_KEY in the environment."
    )
