"""A holder's organisations: the overview, the organisation's details and its two people.

Only holders reach these pages (staff get 403); an organisation the user does not act for is
a 404 (`member_organisation`), indistinguishable from one that does not exist.
"""

from __future__ import annotations

import uuid

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from register.extensions import limiter
from register.holder import blueprint
from register.holder.access import CLAIMED_ORGANISATION, request_access_limit, user_rate_key
from register.holder.forms import HeadForm, OrganisationForm, ResponsibleForm
from register.models import Organisation, PersonKind, Role
from register.permissions import member_organisation, roles_required
from register.services import documents, organisations, reference
from register.services.access_requests import find_organisation


@blueprint.get("/")
@roles_required(Role.HOLDER)
def index() -> str:
    """The user's organisations with their task lists, or a start page when there are none."""
    overviews = organisations.overviews(current_user._get_current_object())
    if not overviews:
        return render_template("holder/start.html")
    return render_template("holder/index.html", overviews=overviews, label=reference.label)


@blueprint.route("/new", methods=["GET", "POST"])
@roles_required(Role.HOLDER)
# Entering TIN after TIN would tell who is registered: throttled per user, like request access.
@limiter.limit(request_access_limit, key_func=user_rate_key, methods=["POST"])
def create() -> str | Response:
    """Register an organisation; a TIN already in the register leads to asking for access."""
    form = OrganisationForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        tin = form.tin.data or ""
        try:
            organisation = organisations.create_organisation(user, tin, form.details())
        except organisations.TinTaken as taken:
            existing = taken.organisation
            if existing is not None and organisations.membership_of(user, existing):
                flash(_("You already act for this organisation."), "info")
                return redirect(url_for("holder.index"))
            flash(
                _(
                    "An organisation with this TIN is already in the register. "
                    "You can ask for access to it."
                ),
                "info",
            )
            if existing is None:  # inserted by someone else a moment ago: look again
                existing = find_organisation(tin)
            if existing is None:
                flash(_("This TIN was registered a moment ago. Try again."), "error")
                return render_template("holder/details.html", form=form, organisation=None)
            # Only the id, in the session: never the TIN (a PIN) in a URL or a cookie.
            session[CLAIMED_ORGANISATION] = str(existing.id)
            return redirect(url_for("holder.request_access"))
        return redirect(url_for("holder.head", organisation_id=organisation.id))
    return render_template("holder/details.html", form=form, organisation=None)


@blueprint.route("/<uuid:organisation_id>/details", methods=["GET", "POST"])
@roles_required(Role.HOLDER)
def details(organisation_id: uuid.UUID) -> str | Response:
    """Change the organisation's details (its TIN is shown, not changed)."""
    organisation = member_organisation(organisation_id)
    form = OrganisationForm(obj=organisation, with_tin=False, existing_tin=organisation.tin)
    if form.validate_on_submit():
        organisations.update_details(organisation, form.details())
        flash(_("The organisation's details have been saved."), "success")
        return redirect(url_for("holder.index"))
    return render_template("holder/details.html", form=form, organisation=organisation)


@blueprint.route("/<uuid:organisation_id>/head", methods=["GET", "POST"])
@roles_required(Role.HOLDER)
def head(organisation_id: uuid.UUID) -> str | Response:
    """The head of the organisation."""
    organisation = member_organisation(organisation_id)
    form = HeadForm(obj=organisation.person(PersonKind.HEAD))
    if form.validate_on_submit():
        organisations.save_person(organisation, PersonKind.HEAD, form.person())
        if organisation.person(PersonKind.RESPONSIBLE) is None:
            return redirect(url_for("holder.responsible", organisation_id=organisation.id))
        return _saved(organisation)
    return render_template("holder/head.html", form=form, organisation=organisation)


@blueprint.route("/<uuid:organisation_id>/responsible", methods=["GET", "POST"])
@roles_required(Role.HOLDER)
def responsible(organisation_id: uuid.UUID) -> str | Response:
    """The person responsible for personal data, and their consent to publication."""
    organisation = member_organisation(organisation_id)
    form = ResponsibleForm(obj=organisation.person(PersonKind.RESPONSIBLE))
    if form.validate_on_submit():
        organisations.save_person(organisation, PersonKind.RESPONSIBLE, form.person())
        if not documents.has_documents(organisation):
            return redirect(url_for("holder.documents", organisation_id=organisation.id))
        return _saved(organisation)
    return render_template("holder/responsible.html", form=form, organisation=organisation)


def _saved(organisation: Organisation) -> Response:
    flash(_("Your changes to %(name)s have been saved.", name=organisation.legal_name), "success")
    return redirect(url_for("holder.index"))
