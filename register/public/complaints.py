"""Complaints from the public: `/complaints/new` (no account), the receipt, the secret link.

The form finds the holder with the public register's own search, on the server ("Find" posts
the form and it comes back with the matches, everything typed kept). Filing is rate-limited per
address (RATE_LIMIT_COMPLAINT_IP; a search is not counted). The receipt page shows the receipt
number and the secret link once (they travel from the filing to that page in the session, then
are dropped). The page behind the link reads only the complaint's plain columns — status,
dates, the outcome's grounds — and never decrypts anything; a missing, malformed or guessed
token is a 404. Bad input is answered 422, the message beside the field, nothing saved.
"""

from __future__ import annotations

import logging

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from werkzeug.wrappers import Response

from register.extensions import limiter
from register.models import RegisterEntry
from register.public.complaint_forms import UNREGISTERED, ComplaintForm
from register.public.views import blueprint
from register.services import complaints, registry
from register.services.register_entries import STATUS_LABELS as ENTRY_LABELS

log = logging.getLogger("register.complaints")
RECEIPT = "complaint_receipt"
RESULTS = 10


def _limit() -> str:
    return str(current_app.config["RATE_LIMIT_COMPLAINT_IP"])


def _searching() -> bool:
    return request.method == "POST" and request.form.get("action") == "search"


def _locale() -> str:
    locale = str(get_locale() or "ru")
    return locale if locale in current_app.config["LANGUAGES"] else "ru"


def _holders(form: ComplaintForm) -> list[RegisterEntry]:
    """The register's matches for the query, and the holder already chosen."""
    found: list[RegisterEntry] = []
    query = (form.holder_query.data or "").strip()
    if query and not form.holder_query.errors:
        try:
            found = registry.search(
                registry.Filters(q=query[: registry.MAX_QUERY]), limit=RESULTS
            ).items
        except registry.BadParameter:
            found = []
    chosen = form.holder.data
    if chosen and chosen != UNREGISTERED and all(e.registration_number != chosen for e in found):
        entry = registry.entry(chosen)
        if entry is not None:
            found.insert(0, entry)
    return found


def _page(form: ComplaintForm, status: int = 200, searched: bool = False) -> tuple[str, int]:
    holders = _holders(form)
    form.set_holders(holders, ENTRY_LABELS)
    return render_template(
        "public/complaint_new.html",
        form=form,
        holders=holders,
        searched=searched,
        unregistered=UNREGISTERED,
    ), status


@blueprint.route("/complaints/new", methods=["GET", "POST"])
@limiter.limit(_limit, methods=["POST"], exempt_when=_searching)
def new_complaint() -> tuple[str, int] | Response:
    """File a complaint about a holder, without an account."""
    if request.method == "GET":
        form = ComplaintForm(formdata=None)
        form.holder_query.data = (request.args.get("q") or "")[:200]
        chosen = request.args.get("holder") or ""
        if chosen and registry.entry(chosen) is not None:
            form.holder.data = chosen.upper()
        return _page(form, searched=bool(form.holder_query.data))
    form = ComplaintForm()
    if _searching():
        form.holder_query.validate(form)
        return _page(form, searched=True)
    locale = _locale()
    if not form.validate_all(locale):
        log.info("complaint refused: %s", ",".join(sorted(form.errors)) or "cross-field rules")
        return _page(form, 422, searched=bool(form.holder_query.data))
    try:
        complaint, token = complaints.file_complaint(form.details(locale))
    except complaints.ComplaintError as error:
        getattr(form, error.field or "what_happened").errors.append(str(error))
        log.info("complaint refused: %s", error.field or "-")
        return _page(form, 422, searched=bool(form.holder_query.data))
    session[RECEIPT] = {"number": complaint.receipt_number, "token": token}
    return redirect(url_for("public.complaint_received"))


def status_link(token: str) -> str:
    """The secret link, absolute (SERVICE_URL and the path)."""
    base = str(current_app.config["SERVICE_URL"]).rstrip("/")
    return base + url_for("public.complaint_status", token=token)


@blueprint.get("/complaints/received")
def complaint_received() -> tuple[str, int, dict[str, str]] | Response:
    """The receipt: number and secret link, shown once."""
    receipt = session.pop(RECEIPT, None)
    if not isinstance(receipt, dict) or "token" not in receipt:
        return redirect(url_for("public.new_complaint"))
    return (
        render_template(
            "public/complaint_received.html",
            number=receipt.get("number", ""),
            link=status_link(str(receipt["token"])),
        ),
        200,
        {"Referrer-Policy": "no-referrer"},
    )


@blueprint.get("/complaints/status")
def complaint_status() -> tuple[str, int, dict[str, str]]:
    """Where a complaint stands: status and outcome only (read from plain columns)."""
    complaint = complaints.find_by_token(request.args.get("token"))
    if complaint is None:
        abort(404)
    return (
        render_template(
            "public/complaint_status.html",
            complaint=complaint,
            status_labels=complaints.STATUS_LABELS,
            decided=not complaint.is_open,
        ),
        200,
        {"Referrer-Policy": "no-referrer"},
    )
