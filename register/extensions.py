"""Flask extensions as bare singletons; the app factory calls their init_app."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from register.database import Base, Session

db = SQLAlchemy(model_class=Base, session_options={"class_": Session})

# Models subclass `Model`: Flask-SQLAlchemy's db.Model at run time, typed as our Base for mypy.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# The client address comes from request.remote_addr, which ProxyFix sets only through
# TRUSTED_PROXIES; counters live in Redis when REDIS_URL is set, else in memory.
limiter = Limiter(key_func=get_remote_address)
