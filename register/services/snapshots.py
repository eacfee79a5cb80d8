"""Snapshots of an organisation's whole entry: what is public, what is confidential, and paths.

`build_snapshots` turns the working copy (organisation, people, arrays) into two plain
documents. Every field has a stable path: `organisation/<field>`, `people/head/<field>`,
`people/responsible/<field>` and `arrays/<array id>/<field>` (an array's id never changes).
What goes where follows DESIGN.md §3 ("whatever this table does not list as public is
confidential"):

    path                                         public                  confidential
    organisation/legal_name, short_name          yes
    organisation/tin                             legal entities          individual entrepreneur
    organisation/legal_form_code                 yes
    organisation/ownership_form_code                                     yes (not in §3's list)
    organisation/subordination, sector_code,     yes
      region_code, legal_address
    organisation/actual_address                                          yes (not in §3's list)
    organisation/phone, email, website           yes
    people/head/full_name, position                                      yes
    people/responsible/full_name, phone, email   only with consent       without consent
    people/responsible/position, pin,                                    yes (the PIN never public)
      consents_to_publication
    arrays/<id>/name, purpose_codes,             yes
      purpose_other, legal_basis_codes,
      data_item_codes, data_item_other,
      special_categories (flag),
      subject_category_codes,
      subject_bucket_code, source_codes,
      recipient_category_codes,
      cross_border_countries, retention,
      storage_country
    arrays/<id>/collection_methods,                                      yes
      processing_mode, informing_subjects,
      storage_form_code, storage_location_details,
      information_systems, named_recipients,
      cross_border (flag), cross_border_grounds,
      security_measure_codes,
      security_description, processing_start_date

Merging the two gives every path once (`merge`); the diff service compares either the public
snapshots (the public's view) or the merged ones (the holder's and the agency's).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import Locale
from flask_babel import format_date, ngettext
from flask_babel import lazy_gettext as _l

from register.models import (
    DeclarationVersion,
    Organisation,
    PersonalDataArray,
    PersonKind,
)
from register.services.reference import all_items, current_language

Snapshot = dict[str, Any]


@dataclass(frozen=True)
class Field:
    """One field of a snapshot section: its label, whether it is public, how its value reads.

    `values` names a reference list, or one of: text, bool, country, countries, retention,
    date, mode.
    """

    name: str
    label: Any
    public: bool
    values: str = "text"


ORGANISATION_FIELDS = (
    Field("legal_name", _l("Legal name"), True),
    Field("short_name", _l("Short name"), True),
    Field("tin", _l("Taxpayer identification number (TIN)"), True),  # not an entrepreneur's
    Field("legal_form_code", _l("Legal form"), True, "legal_form"),
    Field("ownership_form_code", _l("Form of ownership"), False, "ownership_form"),
    Field("subordination", _l("Subordination (parent body)"), True),
    Field("sector_code", _l("Sector"), True, "sector"),
    Field("region_code", _l("Region"), True, "region"),
    Field("legal_address", _l("Legal address"), True),
    Field("actual_address", _l("Actual address"), False),
    Field("phone", _l("Organisation phone"), True),
    Field("email", _l("Organisation e-mail address"), True),
    Field("website", _l("Website"), True),
)
HEAD_FIELDS = (
    Field("full_name", _l("Full name"), False),
    Field("position", _l("Position"), False),
)
RESPONSIBLE_FIELDS = (
    Field("full_name", _l("Full name"), False),  # public only with consent
    Field("position", _l("Position"), False),
    Field("pin", _l("Personal identification number (PIN)"), False),
    Field("phone", _l("Work phone"), False),  # public only with consent
    Field("email", _l("Work e-mail address"), False),  # public only with consent
    Field("consents_to_publication", _l("Consents to publication of the contact"), False, "bool"),
)
# Published only while the responsible person consents (DESIGN.md §3).
CONSENT_FIELDS = frozenset({"full_name", "phone", "email"})
ARRAY_FIELDS = (
    Field("name", _l("Name of the array"), True),
    Field("purpose_codes", _l("Purposes"), True, "purpose"),
    Field("purpose_other", _l("Other purposes"), True),
    Field("legal_basis_codes", _l("Legal basis"), True, "legal_basis"),
    Field("collection_methods", _l("Methods of collection and use"), False),
    Field("processing_mode", _l("Processing mode"), False, "mode"),
    Field("data_item_codes", _l("Personal data collected"), True, "data_item"),
    Field("data_item_other", _l("Other personal data"), True),
    Field("special_categories", _l("Special categories of personal data"), True, "bool"),
    Field("subject_category_codes", _l("Categories of data subjects"), True, "subject_category"),
    Field("subject_bucket_code", _l("Approximate number of data subjects"), True, "subject_bucket"),
    Field("source_codes", _l("Sources of collection"), True, "source"),
    Field("informing_subjects", _l("How data subjects are informed"), False),
    Field("storage_form_code", _l("Storage form"), False, "storage_form"),
    Field("retention", _l("Retention period"), True, "retention"),
    Field("storage_country", _l("Storage country"), True, "country"),
    Field("storage_location_details", _l("Storage location details"), False),
    Field("information_systems", _l("Information systems"), False),
    Field("recipient_category_codes", _l("Categories of recipients"), True, "recipient_category"),
    Field("named_recipients", _l("Named recipients"), False),
    Field("cross_border", _l("Cross-border transfer"), False, "bool"),
    Field("cross_border_countries", _l("Countries of cross-border transfer"), True, "countries"),
    Field("cross_border_grounds", _l("Grounds of cross-border transfer"), False),
    Field("security_measure_codes", _l("Security measures"), False, "security_measure"),
    Field("security_description", _l("Description of security measures"), False),
    Field("processing_start_date", _l("Processing start date"), False, "date"),
)
SECTIONS: dict[str, tuple[Field, ...]] = {
    "organisation": ORGANISATION_FIELDS,
    "people/head": HEAD_FIELDS,
    "people/responsible": RESPONSIBLE_FIELDS,
    "arrays": ARRAY_FIELDS,
}


def field_of(path: str) -> Field | None:
    """The field a path names (`arrays/<id>/retention` → the retention field), if known."""
    parts = path.split("/")
    fields: tuple[Field, ...]
    if parts[0] == "organisation" and len(parts) == 2:
        fields = ORGANISATION_FIELDS
    elif parts[0] == "people" and len(parts) == 3:
        fields = HEAD_FIELDS if parts[1] == PersonKind.HEAD.value else RESPONSIBLE_FIELDS
    elif parts[0] == "arrays" and len(parts) == 3:
        fields = ARRAY_FIELDS
    else:
        return None
    return next((field for field in fields if field.name == parts[-1]), None)


def _retention(array: PersonalDataArray) -> dict[str, Any] | None:
    if array.retention_condition:
        return {"condition": array.retention_condition}
    if array.retention_value is not None and array.retention_unit is not None:
        return {"value": array.retention_value, "unit": array.retention_unit.value}
    return None


def _array_values(array: PersonalDataArray, special_codes: set[str]) -> dict[str, Any]:
    start = array.processing_start_date
    return {
        "name": array.name,
        "purpose_codes": list(array.purpose_codes or []),
        "purpose_other": array.purpose_other,
        "legal_basis_codes": list(array.legal_basis_codes or []),
        "collection_methods": array.collection_methods,
        "processing_mode": array.processing_mode.value if array.processing_mode else None,
        "data_item_codes": list(array.data_item_codes or []),
        "data_item_other": array.data_item_other,
        "special_categories": bool(set(array.data_item_codes or []) & special_codes),
        "subject_category_codes": list(array.subject_category_codes or []),
        "subject_bucket_code": array.subject_bucket_code,
        "source_codes": list(array.source_codes or []),
        "informing_subjects": array.informing_subjects,
        "storage_form_code": array.storage_form_code,
        "retention": _retention(array),
        "storage_country": array.storage_country,
        "storage_location_details": array.storage_location_details,
        "information_systems": array.information_systems,
        "recipient_category_codes": list(array.recipient_category_codes or []),
        "named_recipients": array.named_recipients,
        "cross_border": bool(array.cross_border),
        "cross_border_countries": list(array.cross_border_countries or []),
        "cross_border_grounds": array.cross_border_grounds,
        "security_measure_codes": list(array.security_measure_codes or []),
        "security_description": array.security_description,
        "processing_start_date": start.isoformat() if isinstance(start, date) else None,
    }


def _split(
    values: dict[str, Any], fields: Iterable[Field], public_names: set[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    public = {f.name: values.get(f.name) for f in fields if f.name in public_names}
    confidential = {f.name: values.get(f.name) for f in fields if f.name not in public_names}
    return public, confidential


def build_snapshots(
    organisation: Organisation,
    arrays: Iterable[PersonalDataArray],
    special_codes: set[str] | None = None,
) -> tuple[Snapshot, Snapshot]:
    """The public and the confidential snapshot of the working copy (see the module's table)."""
    if special_codes is None:
        from register.services.arrays import special_item_codes

        special_codes = set(special_item_codes())
    organisation_values = {f.name: getattr(organisation, f.name) for f in ORGANISATION_FIELDS}
    public_names = {f.name for f in ORGANISATION_FIELDS if f.public}
    if organisation.is_individual_entrepreneur:
        public_names.discard("tin")  # an entrepreneur's TIN is his or her PIN
    else:
        organisation_values["tin"] = organisation.public_tin  # the TIN kept in clear to publish
    org_public, org_confidential = _split(organisation_values, ORGANISATION_FIELDS, public_names)
    public: Snapshot = {"organisation": org_public, "people": {}, "arrays": {}}
    confidential: Snapshot = {"organisation": org_confidential, "people": {}, "arrays": {}}

    head = organisation.person(PersonKind.HEAD)
    if head is not None:
        confidential["people"]["head"] = {f.name: getattr(head, f.name) for f in HEAD_FIELDS}
    responsible = organisation.person(PersonKind.RESPONSIBLE)
    if responsible is not None:
        values = {f.name: getattr(responsible, f.name) for f in RESPONSIBLE_FIELDS}
        values["consents_to_publication"] = bool(responsible.consents_to_publication)
        consent = set(CONSENT_FIELDS) if responsible.consents_to_publication else set()
        shown, kept = _split(values, RESPONSIBLE_FIELDS, consent)
        if shown:
            public["people"]["responsible"] = shown
        confidential["people"]["responsible"] = kept

    array_public_names = {f.name for f in ARRAY_FIELDS if f.public}
    for array in arrays:
        values = _array_values(array, special_codes)
        shown, kept = _split(values, ARRAY_FIELDS, array_public_names)
        public["arrays"][str(array.id)] = shown
        confidential["arrays"][str(array.id)] = kept
    return public, confidential


def flatten(snapshot: Snapshot | None) -> dict[str, Any]:
    """Every field of a snapshot by its path (values are not split further: a list is one value)."""
    paths: dict[str, Any] = {}
    if not snapshot:
        return paths
    for name, value in (snapshot.get("organisation") or {}).items():
        paths[f"organisation/{name}"] = value
    for kind, values in (snapshot.get("people") or {}).items():
        for name, value in (values or {}).items():
            paths[f"people/{kind}/{name}"] = value
    for array_id, values in (snapshot.get("arrays") or {}).items():
        for name, value in (values or {}).items():
            paths[f"arrays/{array_id}/{name}"] = value
    return paths


def merge(public: Snapshot | None, confidential: Snapshot | None) -> Snapshot:
    """Public and confidential joined into one snapshot holding every path once."""
    merged: Snapshot = {"organisation": {}, "people": {}, "arrays": {}}
    for part in (public or {}, confidential or {}):
        merged["organisation"].update(part.get("organisation") or {})
        for group in ("people", "arrays"):
            for key, values in (part.get(group) or {}).items():
                merged[group].setdefault(key, {}).update(values or {})
    return merged


def encode(confidential: Snapshot) -> str:
    """The confidential snapshot as the JSON text stored encrypted in a version."""
    return json.dumps(confidential, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def confidential_of(version: DeclarationVersion) -> Snapshot:
    """A version's confidential snapshot, decrypted."""
    return dict(json.loads(version.confidential_snapshot or "{}"))


def full_snapshot(version: DeclarationVersion | None) -> Snapshot | None:
    """A version's public and confidential snapshots merged (for the holder and the agency)."""
    if version is None:
        return None
    return merge(version.public_snapshot, confidential_of(version))


# -- how values read ---------------------------------------------------------------------------


class Labels:
    """Reference-list labels in the current language, loaded with one query."""

    def __init__(self) -> None:
        self.language = current_language()
        self._items = {(item.list_code, item.code): item for item in all_items()}
        self._territories = Locale.parse(self.language).territories
        self._labels: dict[tuple[str, str], str] = {}

    def code(self, list_code: str, code: str) -> str:
        """The label of a code (the code itself if the list does not know it)."""
        found = self._labels.get((list_code, code))
        if found is None:
            item = self._items.get((list_code, code))
            found = item.label(self.language) if item is not None else code
            self._labels[(list_code, code)] = found
        return found

    def prime(self, texts: Iterable[Any] = ()) -> None:
        """Translate every code's label and `texts` now: a process forked afterwards (the
        open-data export's workers) then reads them without the app's context."""
        for list_code, code in self._items:
            self.code(list_code, code)
        for label in texts:
            self.text(label)

    def text(self, label: Any) -> str:
        """A lazy label (an enum's, say) as text in this language, translated once."""
        key = ("", str(id(label)))
        found = self._labels.get(key)
        if found is None:
            found = self._labels[key] = str(label)
        return found

    def country(self, code: str) -> str:
        """A country's name in the current language."""
        return str(self._territories.get(code, code))


MODES = {"automated": _l("Automated"), "manual": _l("Manual"), "mixed": _l("Mixed")}


def _retention_text(value: dict[str, Any]) -> str:
    if value.get("condition"):
        return str(value["condition"])
    number, unit = int(value.get("value") or 0), value.get("unit")
    if unit == "days":
        return ngettext("%(num)d day", "%(num)d days", number)
    if unit == "months":
        return ngettext("%(num)d month", "%(num)d months", number)
    return ngettext("%(num)d year", "%(num)d years", number)


def readable(field: Field | None, value: Any, labels: Labels) -> str | list[str]:
    """A value as a person reads it: labels for codes, names for countries; '' when not given."""
    if value is None or value == "" or value == []:
        return ""
    kind = field.values if field is not None else "text"
    if kind == "bool":
        return str(_l("Yes") if value else _l("No"))
    if kind == "retention" and isinstance(value, dict):
        return _retention_text(value)
    if kind == "mode":
        return str(MODES.get(str(value), value))
    if kind == "date":
        try:
            return str(format_date(date.fromisoformat(str(value)), "long"))
        except ValueError:
            return str(value)
    if kind in ("country", "countries"):
        codes = value if isinstance(value, list) else [value]
        names = [labels.country(str(code)) for code in codes]
        return names if kind == "countries" else names[0]
    if isinstance(value, list):
        if kind != "text":
            return [labels.code(kind, str(code)) for code in value]
        return [str(item) for item in value]
    if kind != "text":
        return labels.code(kind, str(value))
    return str(value)
