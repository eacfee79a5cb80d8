"""A holder's personal data arrays: add one, change it, remove it.

One page per array. Only holders reach these pages (staff get 403); an organisation the user
does not act for, and an array that is not the organisation's, are 404s. After saving, the
holder goes back to the registration task list, which shows each array's state.
"""

from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from register.holder import blueprint
from register.holder.array_forms import ArrayForm
from register.holder.forms import ConfirmForm
from register.models import Organisation, PersonalDataArray, Role
from register.permissions import member_organisation, roles_required
from register.services import arrays


def _array_of(organisation: Organisation, array_id: uuid.UUID) -> PersonalDataArray:
    array = arrays.find_array(organisation, array_id)
    if array is None:
        abort(404)
    return array


def task_list_url(organisation: Organisation) -> str:
    """The organisation's registration task list."""
    return url_for("holder.registration", organisation_id=organisation.id)


@blueprint.route("/<uuid:organisation_id>/arrays/new", methods=["GET", "POST"])
@roles_required(Role.HOLDER)
def new_array(organisation_id: uuid.UUID) -> str | Response:
    """Describe a new personal data array; it may be saved before it is complete."""
    organisation = member_organisation(organisation_id)
    form = ArrayForm(catalogue=arrays.catalogue())
    if form.validate_on_submit():
        array = arrays.create_array(organisation, form.details())
        flash(_("“%(name)s” has been saved.", name=array.name), "success")
        return redirect(task_list_url(organisation))
    return _page(form, organisation, None)


@blueprint.route("/<uuid:organisation_id>/arrays/<uuid:array_id>", methods=["GET", "POST"])
@roles_required(Role.HOLDER)
def edit_array(organisation_id: uuid.UUID, array_id: uuid.UUID) -> str | Response:
    """Change one of the organisation's arrays."""
    organisation = member_organisation(organisation_id)
    array = _array_of(organisation, array_id)
    form = ArrayForm(obj=array, catalogue=arrays.catalogue())
    if form.validate_on_submit():
        arrays.update_array(array, form.details())
        flash(_("“%(name)s” has been saved.", name=array.name), "success")
        return redirect(task_list_url(organisation))
    return _page(form, organisation, array)


@blueprint.get("/<uuid:organisation_id>/arrays/<uuid:array_id>/remove")
@roles_required(Role.HOLDER)
def confirm_remove_array(organisation_id: uuid.UUID, array_id: uuid.UUID) -> str:
    """Ask before removing an array."""
    organisation = member_organisation(organisation_id)
    array = _array_of(organisation, array_id)
    return render_template(
        "holder/array_remove.html",
        form=ConfirmForm(),
        organisation=organisation,
        array=array,
        task_list=task_list_url(organisation),
    )


@blueprint.post("/<uuid:organisation_id>/arrays/<uuid:array_id>/remove")
@roles_required(Role.HOLDER)
def remove_array(organisation_id: uuid.UUID, array_id: uuid.UUID) -> Response:
    """Remove an array from the working copy (the CSRF token is checked globally)."""
    organisation = member_organisation(organisation_id)
    array = _array_of(organisation, array_id)
    name = array.name
    arrays.remove_array(array)
    flash(_("“%(name)s” has been removed.", name=name), "success")
    return redirect(task_list_url(organisation))


def _page(form: ArrayForm, organisation: Organisation, array: PersonalDataArray | None) -> str:
    return render_template(
        "holder/array.html",
        form=form,
        organisation=organisation,
        array=array,
        task_list=task_list_url(organisation),
    )
