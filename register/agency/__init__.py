"""The agency's side: work queues for inspectors and supervisors (declarations, breach reports,
complaints, access requests), organisations, paper filing and statistics."""

from flask import Blueprint

blueprint = Blueprint("agency", __name__, url_prefix="/agency")

from register.agency import (  # noqa: E402, F401
    access_requests,
    breaches,
    complaints,
    documents,
    holder_file,
    inspections,
    organisations,
    paper,
    review,
    statistics,
)
