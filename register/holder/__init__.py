"""A holder's side: its organisation, people, documents, colleagues, access requests and breach
reports."""

from flask import Blueprint

blueprint = Blueprint("holder", __name__, url_prefix="/organisation")

# The route modules add their views to the blueprint.
from register.holder import (  # noqa: E402, F401
    access,
    arrays,
    breaches,
    documents,
    inspections,
    members,
    registration,
    views,
)
