"""`/api/v1/holders`: the register's entries as JSON (DESIGN.md §5), read from the public tables.

The list pages by cursor in the order of the search page; an entry carries its arrays and
version, with an ETag (304 when unchanged) and a Cache-Control; a bad parameter is a 400
problem naming it, never a 500.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from flask import Response, g, jsonify, request, url_for
from flask_babel import gettext as _

from register.api import blueprint
from register.errors import problem
from register.models import RegisterEntry, RegisterEntryVersion
from register.services import registry
from register.services.diff import diff
from register.services.register_entries import STATUS_LABELS
from register.services.snapshots import Labels

LIST_FIELDS = (
    "q",
    "tin",
    "region",
    "sector",
    "status",
    "cross_border",
    "special_categories",
    "cursor",
    "limit",
)
ENTRY_MAX_AGE = 300


def bad_parameter(error: registry.BadParameter) -> Response:
    """400 problem+json naming the parameter (RFC 9457 `invalid-params`)."""
    invalid = [{"name": error.name, "reason": error.message}]
    return problem(400, error.message, **{"invalid-params": invalid})


def holder_url(number: str) -> str:
    """The entry's API address; the prefix is built once per request (lists and open data
    write hundreds of thousands of them, and url_for costs more than the rest of a row)."""
    prefix = g.get("holder_url_prefix")
    if prefix is None:
        prefix = g.holder_url_prefix = url_for("api.holders", _external=True) + "/"
    return f"{prefix}{quote(number, safe='')}"


def summary(
    entry: RegisterEntry, labels: Labels, url: Callable[[str], str] = holder_url
) -> dict[str, Any]:
    """What a list gives of an entry (`url` makes an entry's API address from its number)."""
    return {
        "registration_number": entry.registration_number,
        "legal_name": entry.legal_name,
        "short_name": entry.short_name,
        "tin": entry.tin,
        "legal_form": entry.legal_form_code,
        "legal_form_label": labels.code("legal_form", entry.legal_form_code or ""),
        "region": entry.region_code,
        "region_label": labels.code("region", entry.region_code or ""),
        "sector": entry.sector_code,
        "sector_label": labels.code("sector", entry.sector_code or ""),
        "status": entry.status.value,
        "status_label": labels.text(STATUS_LABELS[entry.status]),
        "registered_on": entry.registered_on.isoformat(),
        "updated_on": entry.updated_on.isoformat(),
        "cross_border": entry.cross_border,
        "special_categories": entry.special_categories,
        "url": url(entry.registration_number),
    }


def array_json(array_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """One array of the public snapshot."""
    return {
        "id": array_id,
        "name": values.get("name"),
        "purposes": values.get("purpose_codes") or [],
        "purpose_other": values.get("purpose_other"),
        "legal_bases": values.get("legal_basis_codes") or [],
        "data_items": values.get("data_item_codes") or [],
        "data_item_other": values.get("data_item_other"),
        "special_categories": bool(values.get("special_categories")),
        "subject_categories": values.get("subject_category_codes") or [],
        "subject_bucket": values.get("subject_bucket_code"),
        "sources": values.get("source_codes") or [],
        "recipient_categories": values.get("recipient_category_codes") or [],
        "cross_border_countries": values.get("cross_border_countries") or [],
        "retention": values.get("retention"),
        "storage_country": values.get("storage_country"),
    }


def entry_json(
    entry: RegisterEntry, labels: Labels, url: Callable[[str], str] = holder_url
) -> dict[str, Any]:
    """The whole public entry: the summary, the organisation's public fields, arrays, version."""
    snapshot = entry.public_snapshot or {}
    organisation = snapshot.get("organisation") or {}
    responsible = (snapshot.get("people") or {}).get("responsible")
    return {
        **summary(entry, labels, url),
        "version": entry.version_number,
        "status_changed_on": entry.status_changed_on.isoformat()
        if entry.status_changed_on
        else None,
        "subordination": organisation.get("subordination"),
        "legal_address": organisation.get("legal_address"),
        "phone": organisation.get("phone"),
        "email": organisation.get("email"),
        "website": organisation.get("website"),
        "responsible_person": {
            "full_name": responsible.get("full_name"),
            "phone": responsible.get("phone"),
            "email": responsible.get("email"),
        }
        if responsible
        else None,
        "arrays": [
            array_json(array_id, values)
            for array_id, values in sorted(
                (snapshot.get("arrays") or {}).items(), key=lambda item: str(item[1].get("name"))
            )
        ],
        "versions_url": url(entry.registration_number) + "/versions",
    }


@blueprint.get("/holders")
def holders() -> Response:
    """Entries matching the filters, `limit` at a time, with the cursor of the next page."""
    try:
        filters = registry.parse_filters(request.args)
        limit = registry.parse_limit(request.args.get("limit"))
        raw = request.args.get("cursor")
        cursor = registry.Cursor.decode(raw) if raw else None
    except registry.BadParameter as error:
        return bad_parameter(error)
    page = registry.search(filters, after=cursor, limit=limit)
    labels = Labels()
    response = jsonify(
        items=[summary(entry, labels) for entry in page.items], next_cursor=page.next_cursor
    )
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


def _conditional(payload: dict[str, Any], tag_source: str) -> Response:
    """The JSON answer with an ETag, or 304 when the client has it already."""
    etag = hashlib.sha256(tag_source.encode()).hexdigest()[:32]
    fresh = request.if_none_match.contains(etag)
    response = Response(status=304) if fresh else jsonify(payload)
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={ENTRY_MAX_AGE}"
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


def _tag(entry: RegisterEntry, part: str) -> str:
    language = Labels().language
    return "|".join(
        [
            part,
            entry.registration_number,
            str(entry.version_number),
            entry.status.value,
            entry.updated_on.isoformat(),
            str(entry.updated_at.timestamp()),
            language,
        ]
    )


@blueprint.get("/holders/<string:number>")
def holder(number: str) -> Response:
    """One entry with its arrays and version."""
    found = registry.entry(number)
    if found is None:
        return problem(404, _("No entry has this registration number."))
    return _conditional(entry_json(found, Labels()), _tag(found, "entry"))


def version_json(
    version: RegisterEntryVersion, previous: RegisterEntryVersion | None
) -> dict[str, Any]:
    """A published version: its number, date and what changed from the one before."""
    changes = diff(previous.public_snapshot if previous else None, version.public_snapshot)
    return {
        "version": version.number,
        "published_at": version.published_at.isoformat(),
        "changes": [
            {"path": change.path, "kind": change.kind, "old": change.old, "new": change.new}
            for change in changes.changes
        ]
        if previous is not None
        else [],
        "arrays": [
            array_json(array_id, values)
            for array_id, values in (version.public_snapshot.get("arrays") or {}).items()
        ],
    }


@blueprint.get("/holders/<string:number>/versions")
def holder_versions(number: str) -> Response:
    """Every published version of the entry, oldest first, with what changed in each."""
    found = registry.entry(number)
    if found is None:
        return problem(404, _("No entry has this registration number."))
    history = registry.versions(found)
    items = [
        version_json(version, history[index - 1] if index else None)
        for index, version in enumerate(history)
    ]
    return _conditional(
        {"registration_number": found.registration_number, "items": items},
        _tag(found, "versions"),
    )
