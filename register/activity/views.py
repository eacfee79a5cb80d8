"""The activity log page for supervisors and admins: who did what, filterable, newest first."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.blueprints import BlueprintSetupState
from flask_babel import lazy_gettext as _l

from register.activity.forms import ActivityFilterForm
from register.models import Role
from register.permissions import roles_required
from register.services import activity as activity_service
from register.services.activity_search import ActivityFilters, ActivityPage, search

blueprint = Blueprint("activity", __name__, url_prefix="/agency")

# What an entry's actor_label means, for the page.
ACTOR_LABELS = {
    Role.HOLDER.value: _l("holder"),
    Role.INSPECTOR.value: _l("inspector"),
    Role.SUPERVISOR.value: _l("supervisor"),
    Role.ADMIN.value: _l("admin"),
    "anonymous": _l("not signed in"),
    "system": _l("system"),
}


@blueprint.record_once
def _install_security_event_hook(state: BlueprintSetupState) -> None:
    # Security events are appended after each request's transaction; the app needs the hook.
    activity_service.init_app(state.app)


@blueprint.get("/activity")
@roles_required(Role.SUPERVISOR, Role.ADMIN)
def index() -> str:
    """List entries matching the filters, a page at a time."""
    form = ActivityFilterForm(formdata=request.args)
    before = request.args.get("before", type=int)
    page = ActivityPage(entries=[])
    if form.validate():
        filters = ActivityFilters(
            actor=form.actor.data or "",
            action=form.action.data or "",
            object_type=form.object_type.data or "",
            object_id=form.object_id.data or "",
        )
        page = search(filters, before=before)
    filter_args = {name: value for name, value in form.data.items() if value}
    return render_template(
        "activity/index.html",
        form=form,
        page=page,
        before=before,
        filter_args=filter_args,
        actor_labels=ACTOR_LABELS,
    )
