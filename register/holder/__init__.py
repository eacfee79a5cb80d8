"""A holder's side: its organisation, people, documents, colleagues and access requests."""

from flask import Blueprint

blueprint = Blueprint("holder", __name__, url_prefix="/organisation")

# The route modules add their views to the blueprint.
from register.holder import access, documents, members, views  # noqa: E402, F401
