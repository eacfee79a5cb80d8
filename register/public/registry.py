"""The public register pages: `/registry` (search) and `/registry/<number>` (an entry).

They read the public register tables only (`services/registry.py`), never decrypting anything.
Filters are codes in the URL; a bad parameter keeps the page, says what is wrong and shows no
results (400), never an error page.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import abort, g, render_template, request, url_for
from werkzeug.wrappers import Response

from register.models import EntryStatus, ReferenceList
from register.public.views import blueprint
from register.services import reference, registry, snapshots
from register.services.diff import diff
from register.services.register_entries import STATUS_LABELS
from register.services.registration import readers

PAGE_SIZE = 25


def _choices() -> dict[str, list[tuple[str, str]]]:
    return {
        "region": reference.choices(ReferenceList.REGION),
        "sector": reference.choices(ReferenceList.SECTOR),
        "status": [(status.value, str(label)) for status, label in STATUS_LABELS.items()],
    }


@blueprint.get("/registry", endpoint="registry")
def registry_search() -> tuple[str, int]:
    """Search the register: one box, filters, results in name order, pages without end."""
    error: registry.BadParameter | None = None
    page: registry.Page | None = None
    try:
        filters = registry.parse_filters(request.args)
        after = request.args.get("after")
        before = request.args.get("before")
        page = registry.search(
            filters,
            after=registry.Cursor.decode(after, "after") if after else None,
            before=registry.Cursor.decode(before, "before") if before else None,
            limit=PAGE_SIZE,
            count=True,
        )
    except registry.BadParameter as bad:
        error = bad
        filters = registry.Filters(q=(request.args.get("q") or "")[: registry.MAX_QUERY])
    labels = snapshots.Labels()
    return render_template(
        "public/registry.html",
        page=page,
        filters=filters,
        args=request.args,
        error=error,
        choices=_choices(),
        labels=labels,
        status_labels=STATUS_LABELS,
        entry_href=_entry_href,
    ), (400 if error else 200)


def _entry_href(number: str) -> str:
    """An entry page's path; url_for is asked once per request, not once per row."""
    prefix = g.get("entry_href_prefix")
    if prefix is None:
        prefix = g.entry_href_prefix = url_for("public.registry_entry", number="0")[:-1]
    return f"{prefix}{quote(number, safe='')}"


@blueprint.get("/registry/<string:number>")
def registry_entry(number: str) -> str | Response:
    """An entry: every public field and array, its versions, what changed between any two."""
    found = registry.entry(number)
    if found is None:
        abort(404)
    if found.registration_number != number:  # lower case typed: one canonical address
        return Response(
            status=301,
            headers={
                "Location": url_for("public.registry_entry", number=found.registration_number)
            },
        )
    history = registry.versions(found)
    numbers = [version.number for version in history]
    compare = _pair(numbers)
    changes = None
    if compare is not None:
        old, new = (next(v for v in history if v.number == n) for n in compare)
        changes = diff(old.public_snapshot, new.public_snapshot)
    labels = snapshots.Labels()
    snapshot = found.public_snapshot or {}
    return render_template(
        "public/registry_entry.html",
        entry=found,
        history=history,
        compare=compare,
        changes=changes,
        organisation=snapshot.get("organisation") or {},
        responsible=(snapshot.get("people") or {}).get("responsible"),
        arrays=sorted(
            (snapshot.get("arrays") or {}).items(), key=lambda item: str(item[1].get("name"))
        ),
        array_fields=[field for field in snapshots.ARRAY_FIELDS if field.public],
        labels=labels,
        status_labels=STATUS_LABELS,
        suspended=found.status is EntryStatus.SUSPENDED,
        struck_off=found.status is EntryStatus.STRUCK_OFF,
        **readers(labels),
    )


def _pair(numbers: list[int]) -> tuple[int, int] | None:
    """The two versions to compare: ?from=&to= when both exist, else the last two."""
    try:
        chosen = (int(request.args.get("from", "")), int(request.args.get("to", "")))
    except ValueError:
        chosen = None
    if chosen and all(number in numbers for number in chosen) and chosen[0] != chosen[1]:
        return (min(chosen), max(chosen))
    return (numbers[-2], numbers[-1]) if len(numbers) >= 2 else None
