"""Snapshots (what is public, what is confidential, paths) and the diff between two versions."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import sqlalchemy as sa

from register.crypto.errors import DecryptionError
from register.extensions import db
from register.models import DeclarationVersion, PersonKind, RetentionUnit
from register.services import snapshots
from register.services.diff import ADDED, CHANGED, REMOVED, diff
from tests.factories import (
    ArrayFactory,
    DeclarationFactory,
    OrganisationFactory,
    PersonFactory,
)

ENTREPRENEUR_PIN = "22010198512345"
RESPONSIBLE_PIN = "21505199012345"
SPECIAL = {"health", "biometric"}


def organisation_with_people(**attributes: Any) -> Any:
    organisation = OrganisationFactory(**attributes)
    PersonFactory(
        organisation=organisation,
        kind=PersonKind.HEAD,
        full_name="Head Headovich",
        position="Director",
        pin=None,
        phone=None,
        email=None,
    )
    PersonFactory(
        organisation=organisation,
        full_name="Aida Responsible",
        position="Data protection officer",
        pin=RESPONSIBLE_PIN,
        phone="+996 555 111 222",
        email="aida@company.example.kg",
    )
    db.session.expire(organisation, ["people"])
    return organisation


def snapshots_of(organisation: Any, arrays: list[Any]) -> tuple[dict, dict]:
    return snapshots.build_snapshots(organisation, arrays, SPECIAL)


def test_public_snapshot_holds_only_the_public_fields():
    organisation = organisation_with_people()
    array = ArrayFactory(
        organisation=organisation,
        data_item_codes=["full_name", "health"],
        cross_border=True,
        cross_border_countries=["KZ"],
        cross_border_grounds="Contract with the Kazakh branch",
    )
    public, confidential = snapshots_of(organisation, [array])
    assert set(public["organisation"]) == {
        "legal_name",
        "short_name",
        "tin",
        "legal_form_code",
        "subordination",
        "sector_code",
        "region_code",
        "legal_address",
        "phone",
        "email",
        "website",
    }
    assert public["organisation"]["tin"] == organisation.public_tin
    assert public["people"] == {}  # no consent: the responsible person stays confidential
    assert set(public["arrays"][str(array.id)]) == {
        "name",
        "purpose_codes",
        "purpose_other",
        "legal_basis_codes",
        "data_item_codes",
        "data_item_other",
        "special_categories",
        "subject_category_codes",
        "subject_bucket_code",
        "source_codes",
        "recipient_category_codes",
        "cross_border_countries",
        "retention",
        "storage_country",
    }
    shown = public["arrays"][str(array.id)]
    assert shown["special_categories"] is True
    assert shown["retention"] == {"value": 75, "unit": "years"}
    assert shown["cross_border_countries"] == ["KZ"]

    text = json.dumps(public, ensure_ascii=False)
    for secret in (
        RESPONSIBLE_PIN,
        "Head Headovich",
        "Aida Responsible",
        "Locked cabinets",  # the security description
        "Bishkek head office",  # storage location details
        "1C: Salary",  # information systems
        "Social Fund",  # named recipients
        "Kazakh branch",  # grounds of the transfer
        "office 2",  # the actual address
    ):
        assert secret not in text

    kept = confidential["arrays"][str(array.id)]
    assert kept["security_description"].startswith("Locked cabinets")
    assert kept["cross_border"] is True
    assert kept["processing_start_date"] == "2015-03-01"
    assert confidential["people"]["head"] == {"full_name": "Head Headovich", "position": "Director"}
    assert confidential["people"]["responsible"]["pin"] == RESPONSIBLE_PIN
    assert confidential["people"]["responsible"]["full_name"] == "Aida Responsible"
    assert confidential["organisation"]["ownership_form_code"] == "private"
    assert confidential["organisation"]["actual_address"].endswith("office 2, Bishkek")
    # Together they hold every path once.
    merged = snapshots.flatten(snapshots.merge(public, confidential))
    assert not set(snapshots.flatten(public)) & set(snapshots.flatten(confidential))
    assert merged[f"arrays/{array.id}/retention"] == {"value": 75, "unit": "years"}
    assert merged["people/responsible/pin"] == RESPONSIBLE_PIN
    assert merged["organisation/legal_name"] == organisation.legal_name


def test_an_entrepreneurs_tin_is_never_public():
    organisation = organisation_with_people(
        legal_form_code="individual_entrepreneur", tin=ENTREPRENEUR_PIN, public_tin=None
    )
    public, confidential = snapshots_of(organisation, [])
    assert "tin" not in public["organisation"]
    assert ENTREPRENEUR_PIN not in json.dumps(public)
    assert confidential["organisation"]["tin"] == ENTREPRENEUR_PIN


def test_consent_publishes_the_contact_and_withdrawing_it_removes_the_name():
    organisation = organisation_with_people()
    responsible = organisation.person(PersonKind.RESPONSIBLE)
    responsible.consents_to_publication = True
    db.session.flush()
    with_consent, _ = snapshots_of(organisation, [])
    assert with_consent["people"]["responsible"] == {
        "full_name": "Aida Responsible",
        "phone": "+996 555 111 222",
        "email": "aida@company.example.kg",
    }
    assert RESPONSIBLE_PIN not in json.dumps(with_consent)  # the PIN never

    responsible.consents_to_publication = False
    db.session.flush()
    without, confidential = snapshots_of(organisation, [])
    assert "Aida Responsible" not in json.dumps(without)
    assert confidential["people"]["responsible"]["full_name"] == "Aida Responsible"
    changes = diff(with_consent, without).by_path()
    assert changes["people/responsible/full_name"].kind == REMOVED
    assert changes["people/responsible/full_name"].old == "Aida Responsible"
    assert changes["people/responsible/email"].kind == REMOVED


def test_paths_are_stable():
    organisation = organisation_with_people()
    array = ArrayFactory(organisation=organisation)
    paths = snapshots.flatten(snapshots.merge(*snapshots_of(organisation, [array])))
    assert "organisation/legal_name" in paths
    assert "people/head/full_name" in paths
    assert "people/responsible/pin" in paths
    assert f"arrays/{array.id}/retention" in paths
    assert f"arrays/{array.id}/security_description" in paths
    for path in paths:
        assert snapshots.field_of(path) is not None, path


def two_versions() -> tuple[Any, Any, dict, dict]:
    organisation = organisation_with_people()
    kept = ArrayFactory(
        organisation=organisation,
        name="Personnel files",
        cross_border=True,
        cross_border_countries=["KZ", "RU"],
    )
    dropped = ArrayFactory(organisation=organisation, name="Visitors' log")
    old = snapshots.merge(*snapshots_of(organisation, [kept, dropped]))
    return organisation, kept, dropped, old


def test_diff_of_an_added_a_removed_and_a_changed_array():
    organisation, kept, dropped, old = two_versions()
    kept.retention_value = 50
    kept.cross_border_countries = ["KZ"]
    added = ArrayFactory(organisation=organisation, name="Customers")
    organisation.legal_address = "Manas avenue 5, Bishkek"
    db.session.flush()
    new = snapshots.merge(*snapshots_of(organisation, [kept, added]))

    found = diff(old, new)
    assert [(array.name, array.kind) for array in found.arrays] == [
        ("Customers", ADDED),
        ("Personnel files", CHANGED),
        ("Visitors' log", REMOVED),
    ]
    changed = found.array(str(kept.id))
    assert changed is not None
    by_path = {change.path: change for change in changed.changes}
    retention = by_path[f"arrays/{kept.id}/retention"]
    assert retention.kind == CHANGED
    assert (retention.old, retention.new) == (
        {"value": 75, "unit": "years"},
        {"value": 50, "unit": "years"},
    )
    countries = by_path[f"arrays/{kept.id}/cross_border_countries"]
    assert countries.kind == CHANGED
    assert countries.items_removed == ["RU"] and countries.items_added == []
    assert set(by_path) == {
        f"arrays/{kept.id}/retention",
        f"arrays/{kept.id}/cross_border_countries",
    }
    [address] = found.organisation
    assert address.path == "organisation/legal_address"
    assert (address.kind, address.new) == (CHANGED, "Manas avenue 5, Bishkek")
    assert found.people == ()
    removed = found.array(str(dropped.id))
    assert removed is not None and all(change.kind == REMOVED for change in removed.changes)


def test_no_changes_and_first_versions():
    *_, old = two_versions()
    assert not diff(old, copy.deepcopy(old))
    assert diff(old, copy.deepcopy(old)).changes == []
    everything = diff(None, old)
    assert all(change.kind == ADDED for change in everything.changes)
    assert {array.kind for array in everything.arrays} == {ADDED}


def test_a_condition_instead_of_a_period_and_the_diff_of_public_snapshots():
    organisation = organisation_with_people()
    array = ArrayFactory(organisation=organisation)
    old_public, _ = snapshots_of(organisation, [array])
    array.retention_value, array.retention_unit = None, None
    array.retention_condition = "Until the employee leaves, then 75 years in the archive"
    array.security_description = "Changed and confidential"
    db.session.flush()
    new_public, _ = snapshots_of(organisation, [array])
    changes = diff(old_public, new_public).changes
    # The public diff never shows a confidential field, even when it changed.
    assert [change.path for change in changes] == [f"arrays/{array.id}/retention"]
    assert changes[0].new == {"condition": array.retention_condition}
    assert array.retention_unit is None and RetentionUnit.YEARS.value == "years"


def test_a_stored_confidential_snapshot_is_encrypted_and_bound_to_its_version():
    organisation = organisation_with_people(
        legal_form_code="individual_entrepreneur", tin=ENTREPRENEUR_PIN, public_tin=None
    )
    array = ArrayFactory(organisation=organisation)
    public, confidential = snapshots_of(organisation, [array])
    declaration = DeclarationFactory(organisation=organisation)
    version = DeclarationVersion(
        organisation_id=organisation.id,
        declaration_id=declaration.id,
        number=1,
        public_snapshot=public,
        confidential_snapshot=snapshots.encode(confidential),
    )
    db.session.add(version)
    db.session.commit()
    raw = db.session.execute(
        sa.select(DeclarationVersion.confidential_snapshot_encrypted).where(
            DeclarationVersion.id == version.id
        )
    ).scalar_one()
    for plaintext in (ENTREPRENEUR_PIN, RESPONSIBLE_PIN, "Head Headovich", "Locked cabinets"):
        assert plaintext.encode() not in raw
        assert plaintext.encode("utf-16-le") not in raw
    db.session.expire_all()
    stored = db.session.get(DeclarationVersion, version.id)
    assert snapshots.confidential_of(stored) == confidential
    assert snapshots.full_snapshot(stored) == snapshots.merge(public, confidential)
    # The stored JSON holds no secret either.
    stored_public = db.session.execute(
        sa.select(DeclarationVersion.public_snapshot).where(DeclarationVersion.id == version.id)
    ).scalar_one()
    assert ENTREPRENEUR_PIN not in json.dumps(stored_public)

    # Bound to its version: the same bytes under another version's id do not decrypt.
    copied = DeclarationVersion(
        organisation_id=organisation.id,
        declaration_id=declaration.id,
        number=2,
        public_snapshot=public,
        confidential_snapshot="{}",
    )
    copied.confidential_snapshot_encrypted = raw
    with pytest.raises(DecryptionError):
        _ = copied.confidential_snapshot
