"""The Register of Personal Data Holders: the application factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from flask import Flask

from config import Config, load_config, normalise_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

# Endpoints anyone may reach without signing in. Every other endpoint needs a signed-in user
# (deny by default, see register.permissions). Blueprints add theirs with `public_endpoint`.
PUBLIC_ENDPOINTS: set[str] = {
    "static",
    "public.index",
    "public.healthz",
    "public.readyz",
    "public.verify",
    "public.registry",
    "public.registry_entry",
    "public.open_data",
    "public.open_data_file",
    "public.new_complaint",
    "public.complaint_received",
    "public.complaint_status",
    "api.verify",
    "api.holders",
    "api.holder",
    "api.holder_versions",
    "api.openapi",
}


def create_app(config: Config | str | None = None, **overrides: Any) -> Flask:
    """Build the application for `config` (a Config, its name, or REGISTER_CONFIG)."""
    if not isinstance(config, Config):
        config = load_config(config)
    app = Flask(
        __name__,
        instance_path=config.INSTANCE_PATH,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
    )
    app.config.from_mapping(config.as_dict())
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # JSON in UTF-8: Cyrillic as is
    app.config.update(overrides)
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # psycopg prepares a statement after 5 runs and PostgreSQL may then keep one generic
        # plan for it; a search's best plan depends on how common its words are (a generic plan
        # made a common word's count 7 times slower). Plan each query for its own values.
        options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        options["connect_args"] = {**options.get("connect_args", {}), "prepare_threshold": None}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    # JSON columns (snapshots) are read with orjson: the same values, several times faster.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "json_deserializer": orjson.loads,
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
    }
    app.config["PUBLIC_ENDPOINTS"] = set(PUBLIC_ENDPOINTS)

    from register import logs

    logs.init_app(app)
    _init_extensions(app)
    _register_blueprints(app)

    from register import errors, i18n, permissions, requests, security

    # after_request functions run in reverse order of registration: the transaction is
    # finished first, then headers are set, then the request is logged.
    logs.init_request_logging(app)
    security.init_app(app)
    requests.init_app(app)
    permissions.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)

    from register import cli

    cli.init_app(app)
    return app


def _init_extensions(app: Flask) -> None:
    from register import models  # noqa: F401 - registers every model with the metadata
    from register.database import configure_sqlite, include_in_migrations
    from register.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            Path(app.instance_path).mkdir(parents=True, exist_ok=True)
            configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    _init_crypto(app)
    migrate.init_app(
        app,
        db,
        directory=str(BASE_DIR / "migrations"),
        render_as_batch=True,
        compare_type=True,
        include_name=include_in_migrations,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)


def _init_crypto(app: Flask) -> None:
    """Give the encrypted fields their keys: the key file (read on first use) and data keys."""
    from register.crypto import keyring
    from register.crypto.datakeys import DataKeyManager
    from register.crypto.fields import set_manager
    from register.extensions import db

    keys_file = Path(app.config["REGISTER_KEYS_FILE"])
    manager = DataKeyManager(
        keyring_loader=lambda: keyring.load(keys_file),
        session_factory=lambda: db.session,
        active_ttl_seconds=app.config["CRYPTO_ACTIVE_KEY_TTL_SECONDS"],
    )
    app.extensions["crypto"] = manager
    set_manager(manager)


def _register_blueprints(app: Flask) -> None:
    from register.activity.views import blueprint as activity_blueprint
    from register.admin import reference  # noqa: F401 - adds the reference-list pages
    from register.admin.views import blueprint as admin_blueprint
    from register.agency import blueprint as agency_blueprint
    from register.api import blueprint as api_blueprint
    from register.auth import two_factor_views  # noqa: F401 - adds its routes to auth
    from register.auth.views import PUBLIC as AUTH_PUBLIC
    from register.auth.views import account_blueprint
    from register.auth.views import blueprint as auth_blueprint
    from register.holder import blueprint as holder_blueprint
    from register.inbox.views import blueprint as inbox_blueprint
    from register.public.views import blueprint as public_blueprint

    app.register_blueprint(public_blueprint)
    app.register_blueprint(auth_blueprint)
    app.register_blueprint(account_blueprint)
    app.register_blueprint(inbox_blueprint)
    app.register_blueprint(activity_blueprint)
    app.register_blueprint(admin_blueprint)
    app.register_blueprint(holder_blueprint)
    app.register_blueprint(agency_blueprint)
    app.register_blueprint(api_blueprint)
    app.config["PUBLIC_ENDPOINTS"].update(AUTH_PUBLIC)
