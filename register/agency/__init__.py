"""The agency's side: work queues for inspectors and supervisors."""

from flask import Blueprint

blueprint = Blueprint("agency", __name__, url_prefix="/agency")

from register.agency import access_requests, documents, organisations, paper, review  # noqa: E402, F401
