"""Which declarations are high risk, and why (DESIGN.md §2: four eyes before they are approved).

High risk: an array holds special categories of personal data, transfers data abroad, or
concerns more subjects than the configured threshold (100,000 by default: the subject-count
buckets whose lower bound is above it). Each test can be switched off in the configuration.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from register.extensions import db
from register.models import ReferenceItem
from register.services.snapshots import Snapshot

SPECIAL = "special_categories"
CROSS_BORDER = "cross_border"
MANY_SUBJECTS = "many_subjects"
REASON_LABELS = {
    SPECIAL: _l("Special categories of personal data"),
    CROSS_BORDER: _l("Cross-border transfer"),
    MANY_SUBJECTS: _l("More than %(number)s data subjects"),
}


def _large_buckets() -> set[str]:
    threshold = int(current_app.config["HIGH_RISK_SUBJECTS"])
    return set(
        db.session.scalars(
            sa.select(ReferenceItem.code).where(
                ReferenceItem.list_code == "subject_bucket",
                ReferenceItem.lower_bound > threshold,
            )
        )
    )


def reasons(snapshot: Snapshot | None) -> list[str]:
    """Why a (public or merged) snapshot is high risk: codes of REASON_LABELS; empty if it isn't."""
    if not snapshot:
        return []
    config = current_app.config
    arrays: list[dict[str, Any]] = list((snapshot.get("arrays") or {}).values())
    found = []
    if config["HIGH_RISK_SPECIAL_CATEGORIES"] and any(a.get("special_categories") for a in arrays):
        found.append(SPECIAL)
    if config["HIGH_RISK_CROSS_BORDER"] and any(a.get("cross_border_countries") for a in arrays):
        found.append(CROSS_BORDER)
    buckets = {a.get("subject_bucket_code") for a in arrays} - {None}
    if buckets and buckets & _large_buckets():
        found.append(MANY_SUBJECTS)
    return found


def reason_labels(codes: list[str]) -> list[str]:
    """The reasons, as people read them."""
    threshold = int(current_app.config["HIGH_RISK_SUBJECTS"])
    return [
        str(REASON_LABELS[code]) % {"number": f"{threshold:,}".replace(",", " ")}
        if code == MANY_SUBJECTS
        else str(REASON_LABELS[code])
        for code in codes
        if code in REASON_LABELS
    ]
