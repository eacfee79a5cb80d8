"""Configuration: production refuses to start without its settings; development secrets."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigurationError, ProductionConfig, load_config
from register import create_app
from tests.conftest import KEYS_FILE, CliRunner, make_environ

REPO = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "REGISTER_CONFIG": "production",
    "REGISTER_KEYS_FILE": str(KEYS_FILE),
    "SECRET_KEY": "x" * 48,
    "DATABASE_URL": "postgresql://register@db.internal/register",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


REQUIRED = {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "REGISTER_KEYS_FILE"}


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_production_refuses_to_start_without_each_required_setting(missing):
    environ = {key: value for key, value in PRODUCTION_ENV.items() if key != missing}
    with pytest.raises(ConfigurationError) as excinfo:
        load_config(environ=environ)
    assert missing in str(excinfo.value)
    # The other settings are present, so only the missing one is named.
    for other in REQUIRED - {missing}:
        assert other not in str(excinfo.value)


def test_production_refuses_a_short_secret_and_sqlite():
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        load_config(environ={**PRODUCTION_ENV, "SECRET_KEY": "short"})
    with pytest.raises(ConfigurationError, match="PostgreSQL"):
        load_config(environ={**PRODUCTION_ENV, "DATABASE_URL": "sqlite:////tmp/x.db"})


def test_production_refuses_a_missing_or_open_key_file(tmp_path):
    missing = tmp_path / "nowhere.json"
    with pytest.raises(ConfigurationError, match=r"nowhere\.json"):
        load_config(environ={**PRODUCTION_ENV, "REGISTER_KEYS_FILE": str(missing)})
    readable = tmp_path / "keys.json"
    readable.write_text(KEYS_FILE.read_text())
    readable.chmod(0o644)
    with pytest.raises(ConfigurationError, match=r"chmod 600"):
        load_config(environ={**PRODUCTION_ENV, "REGISTER_KEYS_FILE": str(readable)})


def test_unknown_config_name_is_named():
    with pytest.raises(ConfigurationError, match="staging"):
        load_config(environ={"REGISTER_CONFIG": "staging"})


def test_production_app_has_secure_cookies_hsts_and_json_logs(tmp_path):
    config = load_config(environ={**PRODUCTION_ENV, "REGISTER_INSTANCE_PATH": str(tmp_path)})
    assert isinstance(config, ProductionConfig)
    app = create_app(config)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")
    assert app.config["LOG_JSON"] is True
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert "max-age=63072000" in response.headers["Strict-Transport-Security"]


def test_development_has_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


def test_demo_seed_is_refused_in_production(tmp_path):
    app = create_app(
        load_config(environ={**PRODUCTION_ENV, "REGISTER_INSTANCE_PATH": str(tmp_path)})
    )
    app.test_cli_runner_class = CliRunner
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code != 0
    assert "refused in production" in result.output


def test_dev_init_creates_secret_exclusively_with_mode_0600(make_app, tmp_path):
    app = make_app()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["dev", "init"])
    assert result.exit_code == 0, result.output
    secret_file = tmp_path / "secret_key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    first = secret_file.read_text()
    assert len(first.strip()) >= 48
    again = runner.invoke(args=["dev", "init"])
    assert "Kept existing" in again.output
    assert secret_file.read_text() == first


def test_development_reads_the_instance_secret(tmp_path):
    (tmp_path / "secret_key").write_text("from-the-instance-folder\n")
    config = load_config(
        environ={"REGISTER_CONFIG": "development", "REGISTER_INSTANCE_PATH": str(tmp_path)}
    )
    assert config.SECRET_KEY == "from-the-instance-folder"


def test_wsgi_entry_refuses_to_serve_without_a_secret(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "DATABASE_URL", "REGISTER_CONFIG"}
    }
    env.update(make_environ(tmp_path, REGISTER_CONFIG="development"))
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "-c", "import register.wsgi"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "flask --app register dev init" in result.stderr


def test_timezone_defaults_to_bishkek(app):
    from register.i18n import agency_timezone

    with app.app_context():
        assert agency_timezone().key == "Asia/Bishkek"
