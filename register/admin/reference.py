"""Admin pages for the reference lists: see the lists, add, edit, retire and reinstate items.

A code, once created, never changes and is never deleted: records keep pointing at it. Retiring
an item stops forms offering it (`services.reference.choices`), while pages still show its label.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from register.admin.reference_forms import LIST_LABELS, ReferenceActionForm, ReferenceItemForm
from register.admin.views import blueprint
from register.database import utcnow
from register.extensions import db
from register.models import ReferenceItem, ReferenceList, Role
from register.permissions import roles_required
from register.services import activity
from register.services.reference import current_language, items

PREVIEW_ITEMS = 3
EDITABLE = (
    "label_ky",
    "label_ru",
    "label_en",
    "sort_order",
    "is_special_category",
    "valid_for_special_categories",
    "lower_bound",
    "upper_bound",
)


class DuplicateCode(Exception):
    """The list already has an item with this code (perhaps retired)."""


class OverlappingBucket(Exception):
    """A subject-count range would overlap another current range."""


# -- the changes (services flush; the request commits) ----------------------------------------


def _reference_list(list_code: str) -> ReferenceList:
    try:
        return ReferenceList(list_code)
    except ValueError:
        abort(404)


def _item(reference_list: ReferenceList, code: str) -> ReferenceItem:
    item = db.session.scalar(
        sa.select(ReferenceItem).where(
            ReferenceItem.list_code == reference_list.value, ReferenceItem.code == code
        )
    )
    if item is None:
        abort(404)
    return item


def _record(action: str, item: ReferenceItem, **details: Any) -> None:
    activity.record(
        f"reference.{action}",
        object_type="reference_item",
        object_id=f"{item.list_code}:{item.code}",
        details={"list": item.list_code, **details},
    )


def _check_bucket(item_id: object, list_code: str, lower: int | None, upper: int | None) -> None:
    """Subject-count ranges of the current items must not overlap (checked before a change)."""
    if list_code != ReferenceList.SUBJECT_BUCKET:
        return
    low = lower or 0
    for other in items(ReferenceList.SUBJECT_BUCKET):
        if other.id == item_id:
            continue
        other_low = other.lower_bound or 0
        if (upper is None or other_low <= upper) and (
            other.upper_bound is None or low <= other.upper_bound
        ):
            raise OverlappingBucket(other.code)


def next_sort_order(reference_list: ReferenceList) -> int:
    """A position after the last item of the list."""
    last = db.session.scalar(
        sa.select(sa.func.max(ReferenceItem.sort_order)).where(
            ReferenceItem.list_code == reference_list.value
        )
    )
    return (last or 0) + 10


def create_item(reference_list: ReferenceList, code: str, values: dict[str, Any]) -> ReferenceItem:
    """Add an item to a list; DuplicateCode if the code exists (retired or not)."""
    exists = db.session.scalar(
        sa.select(ReferenceItem.id).where(
            ReferenceItem.list_code == reference_list.value, ReferenceItem.code == code
        )
    )
    if exists is not None:
        raise DuplicateCode(code)
    _check_bucket(None, reference_list.value, values.get("lower_bound"), values.get("upper_bound"))
    item = ReferenceItem(list_code=reference_list.value, code=code, **values)
    if item.sort_order is None:
        item.sort_order = next_sort_order(reference_list)
    try:
        with db.session.begin_nested():  # a concurrent request may have added the same code
            db.session.add(item)
            db.session.flush()
    except IntegrityError:
        raise DuplicateCode(code) from None
    _record("item_created", item)
    return item


def change_item(item: ReferenceItem, values: dict[str, Any]) -> list[str]:
    """Change an item's labels, flags or position; the names of what changed."""
    changed = [name for name, value in values.items() if getattr(item, name) != value]
    if not changed:
        return []
    if not item.is_retired:
        _check_bucket(
            item.id,
            item.list_code,
            values.get("lower_bound", item.lower_bound),
            values.get("upper_bound", item.upper_bound),
        )
    for name in changed:
        setattr(item, name, values[name])
    db.session.flush()
    _record("item_changed", item, fields=",".join(changed))
    return changed


def retire_item(item: ReferenceItem) -> bool:
    """Stop offering an item in forms (old records keep it); False if it already was."""
    if item.is_retired:
        return False
    item.retired_at = utcnow()
    db.session.flush()
    _record("item_retired", item)
    return True


def reinstate_item(item: ReferenceItem) -> bool:
    """Offer a retired item again; False if it was not retired."""
    if not item.is_retired:
        return False
    _check_bucket(item.id, item.list_code, item.lower_bound, item.upper_bound)
    item.retired_at = None
    db.session.flush()
    _record("item_reinstated", item)
    return True


# -- the pages ----------------------------------------------------------------------------------


def _values(form: ReferenceItemForm, item: ReferenceItem | None) -> dict[str, Any]:
    """What the form sets, by column (a blank position keeps the current one)."""
    values = {name: form[name].data for name in EDITABLE if name in form}
    if values.get("sort_order") is None:
        values["sort_order"] = item.sort_order if item is not None else None
    return values


def _bucket_error(form: ReferenceItemForm, other_code: str) -> None:
    form.lower_bound.errors = [
        _("This range overlaps the range of the item %(code)s", code=other_code)
    ]


@blueprint.get("/reference")
@roles_required(Role.ADMIN)
def reference_lists() -> str:
    """The reference lists with how many items each holds, current and retired."""
    rows = db.session.execute(
        sa.select(
            ReferenceItem.list_code,
            sa.func.count(),
            sa.func.count(ReferenceItem.retired_at),
        ).group_by(ReferenceItem.list_code)
    ).all()
    counts = {list_code: (total - retired, retired) for list_code, total, retired in rows}
    language = current_language()
    lists = [
        {
            "code": reference_list.value,
            "label": LIST_LABELS[reference_list],
            "current": counts.get(reference_list.value, (0, 0))[0],
            "retired": counts.get(reference_list.value, (0, 0))[1],
            "preview": [item.label(language) for item in items(reference_list)[:PREVIEW_ITEMS]],
        }
        for reference_list in ReferenceList
    ]
    return render_template("admin/reference/lists.html", lists=lists)


@blueprint.get("/reference/<list_code>")
@roles_required(Role.ADMIN)
def reference_list(list_code: str) -> str:
    """Every item of one list, retired ones too, with its code, labels and flags."""
    reference_list = _reference_list(list_code)
    return render_template(
        "admin/reference/list.html",
        reference_list=reference_list,
        list_label=LIST_LABELS[reference_list],
        items=items(reference_list, include_retired=True),
        language=current_language(),
    )


@blueprint.route("/reference/<list_code>/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def reference_new(list_code: str) -> str | Response:
    """Add an item to a list."""
    reference_list = _reference_list(list_code)
    form = ReferenceItemForm(reference_list, new=True)
    if request.method == "GET":
        form.sort_order.data = next_sort_order(reference_list)
    if form.validate_on_submit():
        code = form.code.data or ""
        try:
            create_item(reference_list, code, _values(form, None))
        except DuplicateCode:
            form.code.errors = [_("This list already has an item with this code")]
        except OverlappingBucket as overlap:
            _bucket_error(form, str(overlap))
        else:
            flash(_("Item %(code)s added.", code=code), "success")
            return redirect(url_for("admin.reference_list", list_code=reference_list.value))
    return render_template(
        "admin/reference/item_new.html",
        form=form,
        reference_list=reference_list,
        list_label=LIST_LABELS[reference_list],
    )


@blueprint.route("/reference/<list_code>/<code>", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def reference_edit(list_code: str, code: str) -> str | Response:
    """Change an item's labels, flags and position (never its code)."""
    reference_list = _reference_list(list_code)
    item = _item(reference_list, code)
    form = ReferenceItemForm(reference_list, obj=item)
    if form.validate_on_submit():
        try:
            changed = change_item(item, _values(form, item))
        except OverlappingBucket as overlap:
            _bucket_error(form, str(overlap))
        else:
            if changed:
                flash(_("Item %(code)s saved.", code=code), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("admin.reference_list", list_code=reference_list.value))
    return render_template(
        "admin/reference/item_edit.html",
        form=form,
        item=item,
        reference_list=reference_list,
        list_label=LIST_LABELS[reference_list],
        action_form=ReferenceActionForm(),
    )


def _retire_or_reinstate(list_code: str, code: str, *, retire: bool) -> Response:
    reference_list = _reference_list(list_code)
    item = _item(reference_list, code)
    if not ReferenceActionForm().validate_on_submit():
        abort(400)
    if retire:
        done = retire_item(item)
        flash(
            _("Item %(code)s retired: forms no longer offer it.", code=code)
            if done
            else _("Item %(code)s was already retired.", code=code),
            "success" if done else "info",
        )
    else:
        try:
            done = reinstate_item(item)
        except OverlappingBucket as overlap:
            flash(
                _(
                    "Item %(code)s overlaps the range of the item %(other)s: change one of "
                    "them first.",
                    code=code,
                    other=str(overlap),
                ),
                "error",
            )
            return redirect(url_for("admin.reference_edit", list_code=list_code, code=code))
        flash(
            _("Item %(code)s reinstated: forms offer it again.", code=code)
            if done
            else _("Item %(code)s is not retired.", code=code),
            "success" if done else "info",
        )
    return redirect(url_for("admin.reference_edit", list_code=reference_list.value, code=code))


@blueprint.post("/reference/<list_code>/<code>/retire")
@roles_required(Role.ADMIN)
def reference_retire(list_code: str, code: str) -> Response:
    """Retire an item: kept for old records, no longer offered in forms."""
    return _retire_or_reinstate(list_code, code, retire=True)


@blueprint.post("/reference/<list_code>/<code>/reinstate")
@roles_required(Role.ADMIN)
def reference_reinstate(list_code: str, code: str) -> Response:
    """Offer a retired item in forms again."""
    return _retire_or_reinstate(list_code, code, retire=False)
