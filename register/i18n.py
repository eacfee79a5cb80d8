"""Languages (Kyrgyz, Russian, English) and the agency's time zone."""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale

from register.extensions import babel

LANGUAGE_NAMES = {"ky": "Кыргызча", "ru": "Русский", "en": "English"}


def select_locale() -> str:
    """?lang= (remembered in the session), then the saved choice, then the browser's."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and e-mails pick their locale explicitly
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    asked = request.args.get("lang", "")
    if asked in languages:
        session["lang"] = asked
        return asked
    saved = session.get("lang")
    if saved in languages:
        return str(saved)
    best = request.accept_languages.best_match(languages)
    return str(best or current_app.config["BABEL_DEFAULT_LOCALE"])


def agency_timezone() -> ZoneInfo:
    """The agency's time zone (TIMEZONE, default Asia/Bishkek): dates and deadlines use it."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def local_now() -> datetime:
    """The current time in the agency's time zone."""
    return datetime.now(agency_timezone())


def local_today() -> date:
    """Today's date in the agency's time zone."""
    return local_now().date()


@functools.lru_cache(maxsize=32768)
def _medium_date(day: date, language: str) -> str:
    return format_date(day, "medium", locale=language)


def medium_date(day: date) -> str:
    """A date as `dateformat('medium')` writes it, remembered (a results page shows 50 dates,
    and formatting one costs more than the rest of its row)."""
    return _medium_date(day, str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]))


def init_app(app: Flask) -> None:
    """Set up Flask-Babel and give templates the language list."""
    babel.init_app(
        app, locale_selector=select_locale, timezone_selector=lambda: app.config["TIMEZONE"]
    )
    app.add_template_filter(medium_date, "medium_date")

    # A deadline is stored as the midnight that ends its last day: pages show that day.
    from register.services.working_days import last_day

    app.add_template_filter(last_day, "deadline_day")

    @app.context_processor
    def inject_languages() -> dict[str, object]:
        return {
            "languages": LANGUAGE_NAMES,
            "current_language": str(get_locale() or app.config["BABEL_DEFAULT_LOCALE"]),
        }
