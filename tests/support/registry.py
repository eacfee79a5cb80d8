"""Published register entries made straight from a public snapshot, without the review steps.

For tests of what the public reads (search, entry pages, the API, open data): one helper, so
every such test builds its entries the same way.
"""

from __future__ import annotations

import itertools
from typing import Any

from register.database import utcnow
from register.extensions import db
from register.models import EntryStatus, RegisterEntry, Role
from register.services import register_entries
from tests.factories import DeclarationVersionFactory, OrganisationFactory, StaffFactory

_counter = itertools.count(1)


def array(name: str = "Personnel files", **values: Any) -> dict[str, Any]:
    """A public array as a snapshot holds it."""
    base = {
        "name": name,
        "purpose_codes": ["hr_employment"],
        "legal_basis_codes": ["contract"],
        "data_item_codes": ["full_name"],
        "special_categories": False,
        "subject_category_codes": ["employees"],
        "subject_bucket_code": "up_to_1000",
        "source_codes": ["subject_directly"],
        "recipient_category_codes": [],
        "cross_border_countries": [],
        "retention": {"value": 5, "unit": "years"},
        "storage_country": "KG",
    }
    base.update(values)
    return base


def published(
    legal_name: str,
    short_name: str | None = None,
    *,
    region: str = "KG-GB",
    sector: str = "it",
    arrays: list[dict[str, Any]] | None = None,
    status: EntryStatus = EntryStatus.REGISTERED,
) -> RegisterEntry:
    """An organisation published straight into the register (no review steps)."""
    number = next(_counter)
    tin = f"5{number:013d}"  # apart from the factories' TINs
    organisation = OrganisationFactory(
        legal_name=legal_name,
        short_name=short_name,
        region_code=region,
        sector_code=sector,
        tin=tin,
        public_tin=tin,
    )
    snapshot = {
        "organisation": {
            "legal_name": legal_name,
            "short_name": short_name,
            "tin": tin,
            "legal_form_code": "llc",
            "sector_code": sector,
            "region_code": region,
            "legal_address": "Chüy avenue 1, Bishkek",
            "phone": "+996 312 000 000",
        },
        "people": {},
        "arrays": {
            f"a{number}-{index}": values for index, values in enumerate(arrays or [array()])
        },
    }
    version = DeclarationVersionFactory(
        declaration__organisation=organisation, public_snapshot=snapshot, number=1
    )
    staff = StaffFactory(role=Role.SUPERVISOR)
    entry = register_entries.publish(version, organisation, staff, utcnow())
    if status is not EntryStatus.REGISTERED:
        action = "suspend" if status is EntryStatus.SUSPENDED else "strike_off"
        register_entries.change_status(entry, action, staff, "Grounds")
    db.session.flush()
    return entry
