"""Configuration for the register, read from the environment when the app is created.

``REGISTER_CONFIG`` picks one of ``development`` (default), ``testing`` or ``production``.
Production refuses to start, naming what is missing, when a required setting is absent.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent


class ConfigurationError(RuntimeError):
    """A required setting is missing or malformed; the message names it."""


# The fixed public holidays of the Kyrgyz Republic (Labour Code, Article 113): New Year,
# Orthodox Christmas, Defender of the Fatherland Day, International Women's Day, Nooruz, the
# Day of the People's April Revolution, Labour Day, Constitution Day, Victory Day, Independence
# Day, and the Days of History and Commemoration of Ancestors.
DEFAULT_PUBLIC_HOLIDAYS = "01-01,01-07,02-23,03-08,03-21,04-07,05-01,05-05,05-09,08-31,11-07,11-08"


def parse_holidays(raw: str, name: str) -> tuple[str, ...]:
    """Holidays as `MM-DD` (every year) or `YYYY-MM-DD`; ConfigurationError names a bad one."""
    from datetime import date

    found: list[str] = []
    for part in raw.split(","):
        text = part.strip()
        if not text:
            continue
        pieces = text.split("-")
        try:
            if len(pieces) == 2 and all(len(p) == 2 for p in pieces):
                date(2000, int(pieces[0]), int(pieces[1]))  # 2000 is a leap year: 02-29 is valid
            elif len(pieces) == 3 and len(pieces[0]) == 4:
                date(int(pieces[0]), int(pieces[1]), int(pieces[2]))
            else:
                raise ValueError(text)
        except ValueError as exc:
            raise ConfigurationError(
                f"{name} holds dates as MM-DD or YYYY-MM-DD, comma-separated; got {text!r}"
            ) from exc
        found.append(text)
    return tuple(found)


class Config:
    """Settings shared by every environment, read from `environ` (default: os.environ)."""

    NAME = "base"
    DEMO_SEED_ALLOWED = True
    TESTING = False

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._env = env
        self.INSTANCE_PATH = str(Path(self.get("REGISTER_INSTANCE_PATH") or BASE_DIR / "instance"))
        self.SECRET_KEY: str | None = self.get("SECRET_KEY")
        self.SQLALCHEMY_DATABASE_URI = self.get("DATABASE_URL") or self.default_database_url()
        # Never put bound parameters (which may be personal data) into logs or error messages.
        self.SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {
            "hide_parameters": True,
            "pool_pre_ping": True,
        }

        self.SQLALCHEMY_ECHO = False
        self.SQLALCHEMY_RECORD_QUERIES = False
        self.SQLITE_BUSY_TIMEOUT_MS = self.get_int("SQLITE_BUSY_TIMEOUT_MS", 15000)
        self.REDIS_URL = self.get("REDIS_URL")
        self.REGISTER_KEYS_FILE = self.get("REGISTER_KEYS_FILE") or str(
            Path(self.INSTANCE_PATH) / "keys.json"
        )
        # How long a worker trusts its cached "active data key" before asking the database.
        self.CRYPTO_ACTIVE_KEY_TTL_SECONDS = self.get_float("CRYPTO_ACTIVE_KEY_TTL_SECONDS", 5.0)
        self.TIMEZONE = self.get("TIMEZONE") or "Asia/Bishkek"
        self.TRUSTED_PROXIES = self.get_int("TRUSTED_PROXIES", 0)
        self.PORT = self.get_int("PORT", 5000)
        self.SERVICE_URL = self.get("SERVICE_URL") or f"http://127.0.0.1:{self.PORT}"

        self.MAIL_SERVER = self.get("MAIL_SERVER")
        self.MAIL_PORT = self.get_int("MAIL_PORT", 25)
        self.MAIL_USE_TLS = self.get_bool("MAIL_USE_TLS", False)
        self.MAIL_USE_SSL = self.get_bool("MAIL_USE_SSL", False)
        self.MAIL_USERNAME = self.get("MAIL_USERNAME")
        self.MAIL_PASSWORD = self.get("MAIL_PASSWORD")
        self.MAIL_DEFAULT_SENDER = self.get("MAIL_DEFAULT_SENDER") or "register@localhost"
        self.MAIL_TIMEOUT_SECONDS = self.get_int("MAIL_TIMEOUT_SECONDS", 30)
        self.MAIL_MAX_ATTEMPTS = self.get_int("MAIL_MAX_ATTEMPTS", 8)
        self.MAIL_OUTBOX_DIR = self.get("MAIL_OUTBOX_DIR") or str(
            Path(self.INSTANCE_PATH) / "outbox"
        )
        self.OPEN_DATA_DIR = self.get("OPEN_DATA_DIR") or str(
            Path(self.INSTANCE_PATH) / "open-data"
        )
        # Processes that render the export's batches (0: one per CPU; 1: in the exporting one).
        self.OPEN_DATA_WORKERS = self.get_int("OPEN_DATA_WORKERS", 0)

        self.LANGUAGES = ("ky", "ru", "en")
        self.BABEL_DEFAULT_LOCALE = self.get("DEFAULT_LOCALE") or "ky"
        self.BABEL_DEFAULT_TIMEZONE = self.TIMEZONE

        self.MAX_CONTENT_LENGTH = 12 * 1024 * 1024
        self.WTF_CSRF_ENABLED = True
        self.WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_NAME = "register_session"
        self.SESSION_COOKIE_SECURE = False
        self.REMEMBER_COOKIE_SECURE = False
        self.PREFERRED_URL_SCHEME = "http"
        self.HSTS_SECONDS = 0
        # Accounts: hashing cost, lock-out, tokens, staff sessions, rate limits.
        self.ARGON2_TIME_COST = self.get_int("ARGON2_TIME_COST", 3)
        self.ARGON2_MEMORY_COST_KIB = self.get_int("ARGON2_MEMORY_COST_KIB", 65536)
        self.ARGON2_PARALLELISM = self.get_int("ARGON2_PARALLELISM", 2)
        self.PASSWORD_MIN_LENGTH = 12
        self.SIGN_IN_MAX_FAILURES = self.get_int("SIGN_IN_MAX_FAILURES", 5)
        self.SIGN_IN_LOCKOUT_MINUTES = self.get_int("SIGN_IN_LOCKOUT_MINUTES", 15)
        self.EMAIL_CONFIRMATION_HOURS = 48
        self.PASSWORD_RESET_MINUTES = 60
        self.STAFF_INVITATION_HOURS = 72
        self.TWO_FACTOR_PENDING_MINUTES = 5
        self.STAFF_IDLE_MINUTES = self.get_int("STAFF_IDLE_MINUTES", 30)
        self.RATELIMIT_ENABLED = self.get_bool("RATELIMIT_ENABLED", True)
        self.RATELIMIT_STORAGE_URI = self.REDIS_URL or "memory://"
        self.RATELIMIT_KEY_PREFIX = "register"
        self.RATELIMIT_HEADERS_ENABLED = True
        # If Redis cannot be reached, count in memory meanwhile rather than fail the request.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
        self.RATELIMIT_STRATEGY = "moving-window"
        self.RATE_LIMIT_SIGN_IN_IP = self.get("RATE_LIMIT_SIGN_IN_IP") or "30 per 15 minutes"
        self.RATE_LIMIT_SIGN_IN_ACCOUNT = (
            self.get("RATE_LIMIT_SIGN_IN_ACCOUNT") or "10 per 15 minutes"
        )
        self.RATE_LIMIT_SIGN_UP_IP = self.get("RATE_LIMIT_SIGN_UP_IP") or "10 per hour"
        self.RATE_LIMIT_RESET_IP = self.get("RATE_LIMIT_RESET_IP") or "10 per hour"
        self.RATE_LIMIT_RESET_ACCOUNT = self.get("RATE_LIMIT_RESET_ACCOUNT") or "3 per hour"
        self.RATE_LIMIT_TWO_FACTOR = self.get("RATE_LIMIT_TWO_FACTOR") or "10 per 15 minutes"
        # Trying TIN after TIN to learn who is registered is throttled per user.
        self.RATE_LIMIT_REQUEST_ACCESS = self.get("RATE_LIMIT_REQUEST_ACCESS") or "30 per hour"
        self.ORGANISATION_INVITATION_DAYS = self.get_int("ORGANISATION_INVITATION_DAYS", 7)
        # The agency's review (DESIGN.md §2): the deadline, the number format, what is high risk.
        self.REVIEW_DEADLINE_DAYS = self.get_int("REVIEW_DEADLINE_DAYS", 30)
        self.REGISTRATION_NUMBER_PREFIX = self.get("REGISTRATION_NUMBER_PREFIX") or "PDH"
        self.HIGH_RISK_SUBJECTS = self.get_int("HIGH_RISK_SUBJECTS", 100_000)
        self.HIGH_RISK_SPECIAL_CATEGORIES = self.get_bool("HIGH_RISK_SPECIAL_CATEGORIES", True)
        self.HIGH_RISK_CROSS_BORDER = self.get_bool("HIGH_RISK_CROSS_BORDER", True)
        self.APPEAL_DAYS = self.get_int("APPEAL_DAYS", 30)
        # Breach reports and complaints (DESIGN.md §2): a holder reports a breach within
        # BREACH_REPORT_HOURS of detecting it; the agency triages a report within
        # BREACH_TRIAGE_WORKING_DAYS and a complaint within COMPLAINT_TRIAGE_WORKING_DAYS.
        # Working days skip Saturdays, Sundays and PUBLIC_HOLIDAYS: comma-separated `MM-DD`
        # (every year) or `YYYY-MM-DD` (one year: Orozo Ait, Kurman Ait and days moved by decree
        # change every year and are added here). The default is the fixed holidays of the
        # Labour Code of the Kyrgyz Republic.
        self.BREACH_REPORT_HOURS = self.get_int("BREACH_REPORT_HOURS", 72)
        self.BREACH_TRIAGE_WORKING_DAYS = self.get_int("BREACH_TRIAGE_WORKING_DAYS", 3)
        self.COMPLAINT_TRIAGE_WORKING_DAYS = self.get_int("COMPLAINT_TRIAGE_WORKING_DAYS", 10)
        self.PUBLIC_HOLIDAYS = parse_holidays(
            self.get("PUBLIC_HOLIDAYS") or DEFAULT_PUBLIC_HOLIDAYS, "PUBLIC_HOLIDAYS"
        )
        # Reminders (`reminders send`, run daily): holders hear of an inspection order due
        # within REMINDER_ORDER_DAYS calendar days, staff of a review, breach triage or
        # complaint triage deadline within REMINDER_STAFF_WORKING_DAYS working days; both
        # once more when it has passed.
        self.REMINDER_ORDER_DAYS = self.get_int("REMINDER_ORDER_DAYS", 7)
        self.REMINDER_STAFF_WORKING_DAYS = self.get_int("REMINDER_STAFF_WORKING_DAYS", 2)
        if self.REMINDER_ORDER_DAYS < 0 or self.REMINDER_STAFF_WORKING_DAYS < 1:
            raise ConfigurationError(
                "REMINDER_ORDER_DAYS must be 0 or more and REMINDER_STAFF_WORKING_DAYS 1 or more."
            )
        # Anyone may file a complaint without an account: throttled per address.
        self.RATE_LIMIT_COMPLAINT_IP = self.get("RATE_LIMIT_COMPLAINT_IP") or "10 per hour"
        self.PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
        self.LOG_JSON = self.get_bool("LOG_JSON", False)
        self.LOG_LEVEL = self.get("LOG_LEVEL") or "INFO"
        self.REGISTER_CONFIG = self.NAME

    # -- reading the environment -------------------------------------------------------

    def get(self, name: str) -> str | None:
        """Return the setting `name` from the environment, or None when unset or empty."""
        value = self._env.get(name)
        return value if value else None

    def get_int(self, name: str, default: int) -> int:
        """Return the setting `name` as an integer, naming it if it is not one."""
        raw = self.get(name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from exc

    def get_float(self, name: str, default: float) -> float:
        """Return the setting `name` as a number, naming it if it is not one."""
        raw = self.get(name)
        if raw is None:
            return default
        try:
            return float(raw)
        except ValueError as exc:
            raise ConfigurationError(f"{name} must be a number, got {raw!r}") from exc

    def get_bool(self, name: str, default: bool) -> bool:
        """Return the setting `name` as a boolean (1/true/yes/on)."""
        raw = self.get(name)
        if raw is None:
            return default
        return raw.strip().lower() in {"1", "true", "yes", "on"}

    def default_database_url(self) -> str:
        """The database used when DATABASE_URL is not set."""
        return f"sqlite:///{Path(self.INSTANCE_PATH) / 'register.sqlite3'}"

    def check(self) -> None:
        """Raise ConfigurationError when a setting this environment requires is missing."""

    def as_dict(self) -> dict[str, Any]:
        """The upper-case settings, as Flask's config wants them."""
        return {key: getattr(self, key) for key in dir(self) if key.isupper()}


class DevelopmentConfig(Config):
    """Local development: SQLite under instance/, secrets made by `flask dev init`."""

    NAME = "development"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__(environ)
        if not self.SECRET_KEY:
            self.SECRET_KEY = read_instance_secret(Path(self.INSTANCE_PATH))
        self.TEMPLATES_AUTO_RELOAD = True


class TestingConfig(Config):
    """The test suite: its own database, fixed secrets, mail written to a temporary folder."""

    NAME = "testing"
    TESTING = True

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__(environ)
        self.TESTING = True
        self.SECRET_KEY = self.get("SECRET_KEY") or "testing-secret-key-not-for-production"
        # Cheap hashing in tests only; production keeps the defaults above.
        self.ARGON2_TIME_COST = 1
        self.ARGON2_MEMORY_COST_KIB = 8
        self.ARGON2_PARALLELISM = 1
        self.SQLALCHEMY_DATABASE_URI = (
            self.get("TEST_DATABASE_URL")
            or self.get("DATABASE_URL")
            or f"sqlite:///{Path(self.INSTANCE_PATH) / 'test.sqlite3'}"
        )


class ProductionConfig(Config):
    """Production: every secret from the environment, secure cookies, HSTS, JSON logs."""

    NAME = "production"
    DEMO_SEED_ALLOWED = False
    REQUIRED = ("SECRET_KEY", "DATABASE_URL", "REDIS_URL", "REGISTER_KEYS_FILE")

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        super().__init__(environ)
        self.SESSION_COOKIE_SECURE = True
        self.REMEMBER_COOKIE_SECURE = True
        self.PREFERRED_URL_SCHEME = "https"
        self.HSTS_SECONDS = self.get_int("HSTS_SECONDS", 63072000)
        self.LOG_JSON = self.get_bool("LOG_JSON", True)

    def default_database_url(self) -> str:
        """Production has no default database."""
        return ""

    def check(self) -> None:
        """Production needs its secret, its database and Redis from the environment."""
        missing = [name for name in self.REQUIRED if not self.get(name)]
        if missing:
            raise ConfigurationError(
                "Production configuration refuses to start: missing setting(s) "
                + ", ".join(missing)
                + ". Set them in the environment."
            )
        if len(self.SECRET_KEY or "") < 32:
            raise ConfigurationError("SECRET_KEY must be at least 32 characters in production.")
        if self.SQLALCHEMY_DATABASE_URI.startswith("sqlite"):
            raise ConfigurationError("DATABASE_URL must point to PostgreSQL in production.")
        from register.crypto import keyring
        from register.crypto.errors import KeyringError

        try:
            keyring.load(Path(self.REGISTER_KEYS_FILE))
        except KeyringError as error:
            raise ConfigurationError(f"Production refuses to start: {error}") from error


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs given without a driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def read_instance_secret(instance_path: Path) -> str | None:
    """The development SECRET_KEY written by `flask dev init`, if it exists."""
    try:
        return (instance_path / "secret_key").read_text(encoding="utf-8").strip() or None
    except FileNotFoundError:
        return None


def load_config(name: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Build and check the configuration named by `name` or by REGISTER_CONFIG."""
    env = os.environ if environ is None else environ
    name = name or env.get("REGISTER_CONFIG") or "development"
    try:
        config_class = CONFIGS[name]
    except KeyError as exc:
        raise ConfigurationError(
            f"REGISTER_CONFIG must be one of {', '.join(CONFIGS)}; got {name!r}"
        ) from exc
    config = config_class(env)
    config.check()
    return config
